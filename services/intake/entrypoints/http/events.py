"""POST /v1/events: authenticate, read, check, validate, publish; all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.intake.adapters.publisher import Publisher, PublishError, RecordTooLargeError
from services.intake.domain.grants import Grant, TokenRegistry, forbidden_sources
from services.intake.domain.identity import RecentIds
from services.intake.domain.validation import (
    BodyError,
    InvalidEventsError,
    split_submission,
    validate_events,
    validate_submission,
)
from services.intake.handlers import ConflictingReuseError, record_events
from services.intake.metrics import HTTP, IntakeMetrics
from services.intake.settings import IntakeSettings
from shared.events import Event
from shared.topics import TopicNames

from .body import read_limited_body
from .openapi import events_request_body
from .responses import (
    AcceptedBody,
    ErrorBody,
    InvalidEventsBody,
    RefusedError,
    json_response,
)

bearer = HTTPBearer(
    auto_error=False,
    description="A token from INTAKE_TOKENS; it names the sources it may send for.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": AcceptedBody, "description": "Kafka acknowledged every event (acks=all)."},
    400: {"model": ErrorBody, "description": "Not JSON, not an object or array, or 0 / >1000."},
    401: {"model": ErrorBody, "description": "Missing or unknown bearer token."},
    403: {"model": ErrorBody, "description": "An event's source is not allowed for the token."},
    409: {
        "model": ErrorBody,
        "description": "A conflicting reuse of (source, id): other content than the event "
        "sent earlier in the request or accepted recently. Nothing was published.",
    },
    413: {"model": ErrorBody, "description": "The body (or one event) is too large."},
    422: {"model": InvalidEventsBody, "description": "Invalid events; nothing was published."},
    503: {"model": ErrorBody, "description": "Kafka cannot take the events now; retry."},
}


def events_router(
    *,
    settings: IntakeSettings,
    publisher: Publisher,
    tokens: TokenRegistry,
    metrics: IntakeMetrics,
    clock: Callable[[], datetime],
) -> APIRouter:
    router = APIRouter(tags=["events"])
    topics: TopicNames = settings.topics
    retry_after = {"Retry-After": str(settings.intake_retry_after_s)}
    recent_ids = RecentIds(settings.intake_recent_ids)

    @router.post(
        "/v1/events",
        status_code=202,
        summary="Submit one event or a batch",
        response_model=None,
        responses=_RESPONSES,
        openapi_extra=events_request_body(settings.intake_max_batch),
    )
    async def post_events(request: Request, credentials: Credentials) -> Response:
        """Answers 202 only once Kafka acknowledged every event. A batch is all or
        nothing: with any invalid event, none is published. Re-sending an event (same
        source and id) is harmless: it is accepted again and changes nothing."""
        try:
            grant = _authenticate(credentials, tokens)
            body = await read_limited_body(request, limit=settings.intake_max_body_bytes)
            now = clock()
            events = _checked_events(body, grant, settings.intake_max_batch, received_at=now)
            await _publish(events, publisher, topics, now, metrics, retry_after, recent_ids)
        except RefusedError as refused:
            metrics.count_rejected(refused.code, channel=HTTP)
            return refused.response()
        return json_response({"accepted": len(events), "ids": [e.id for e in events]}, status=202)

    return router


def _authenticate(credentials: HTTPAuthorizationCredentials | None, tokens: TokenRegistry) -> Grant:
    if credentials is None:
        raise RefusedError(
            401,
            "unauthorized",
            "send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="intake"'},
        )
    grant = tokens.lookup(credentials.credentials)
    if grant is None:
        raise RefusedError(
            401,
            "unauthorized",
            "unknown token",
            headers={"WWW-Authenticate": 'Bearer realm="intake", error="invalid_token"'},
        )
    return grant


def _checked_events(
    body: bytes, grant: Grant, max_batch: int, *, received_at: datetime
) -> list[Event]:
    """400 (shape), then 403 (sources), then 422 (contract): the events, all valid."""
    try:
        if grant.sources is None:  # any source: nothing to look at before validating
            return validate_submission(body, max_batch=max_batch, received_at=received_at)
        submission = split_submission(body, max_batch=max_batch)
        _check_sources(submission.items, grant)
        return validate_events(body, is_batch=submission.is_batch, received_at=received_at)
    except BodyError as rejected:
        raise RefusedError(400, rejected.code, rejected.detail) from None
    except InvalidEventsError as invalid:
        raise _InvalidError(invalid) from None


def _check_sources(items: list[Any], grant: Grant) -> None:
    forbidden = forbidden_sources(items, grant)
    if forbidden:
        first = forbidden[0]
        raise RefusedError(
            403,
            "forbidden_source",
            f"event {first.index}: this token may not send for source {first.source!r}",
            events=[{"index": f.index, "source": f.source} for f in forbidden],
        )


class _InvalidError(RefusedError):
    """422 is answered exactly as the contract says: {"errors": [...]} and nothing else."""

    def __init__(self, invalid: InvalidEventsError) -> None:
        super().__init__(422, "invalid_event", str(invalid))
        self.errors = [e.as_json() for e in invalid.errors]

    def response(self) -> Response:
        return json_response({"errors": self.errors}, status=422)


async def _publish(
    events: list[Event],
    publisher: Publisher,
    topics: TopicNames,
    now: datetime,
    metrics: IntakeMetrics,
    retry_after: dict[str, str],
    recent_ids: RecentIds,
) -> None:
    try:
        await record_events(
            events,
            publisher=publisher,
            topics=topics,
            recorded_at=now,
            metrics=metrics,
            recent_ids=recent_ids,
        )
    except ConflictingReuseError as conflict:
        raise RefusedError(
            409,
            "conflicting_reuse",
            str(conflict),
            events=[c.as_json() for c in conflict.conflicts],
        ) from None
    except RecordTooLargeError as too_large:
        raise RefusedError(
            413,
            "event_too_large",
            f"event {too_large.index} is {too_large.size} bytes as a Kafka record; "
            f"at most {too_large.limit}",
            index=too_large.index,
        ) from None
    except PublishError as failed:
        raise RefusedError(503, "kafka_unavailable", str(failed), headers=retry_after) from None
