"""JSON answers: every refusal has a status, a short stable code and a readable reason."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

JSON = "application/json"


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


class RefusedError(Exception):
    """A request intake will not take: becomes one JSON error response."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
        self.extra = extra

    def response(self) -> Response:
        body = {"error": self.code, "detail": self.detail, **self.extra}
        return json_response(body, status=self.status, headers=self.headers)


# Models for the OpenAPI document only: the handlers write JSON directly.


class AcceptedBody(BaseModel):
    accepted: int = Field(description="How many events Kafka acknowledged.", examples=[2])
    ids: list[str] = Field(
        description="Their ids, in request order.", examples=[["c-2026-000123", "r-2026-000045"]]
    )


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    error: str = Field(description="A short, stable reason code.", examples=["malformed_json"])
    detail: str = Field(description="What is wrong, for people.")


class EventError(BaseModel):
    index: int = Field(description="Position of the event in the request (0 for one event).")
    loc: list[str | int] = Field(
        description="Path of the field inside the event.", examples=[["data", "category"]]
    )
    msg: str = Field(examples=["Input should be 'delay', 'first_inquiry', ..."])


class InvalidEventsBody(BaseModel):
    errors: list[EventError]
