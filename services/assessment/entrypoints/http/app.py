"""The read API's FastAPI application (built by bootstrap; nothing at import time)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel, Field

from services.assessment.adapters.db import DATABASE_UNAVAILABLE
from services.assessment.adapters.read_model import NoLiveVersionError
from services.assessment.entrypoints.http.dashboard.pages import install_dashboard
from services.assessment.entrypoints.http.routes import QueryDeps, router
from shared.http_docs import install_offline_docs
from shared.http_metrics import install_latency_histogram
from shared.tokens import DigestMatcher

# Returns the stable codes of what is not ready ("database_unavailable",
# "kafka_unavailable"); the details belong in the log, not in this unauthenticated answer.
Readiness = Callable[[], Awaitable[list[str]]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

log = logging.getLogger(__name__)
RETRY_AFTER_S = 2


class ErrorBody(BaseModel):
    error: str = Field(description="A short, stable reason code.", examples=["no_live_version"])
    detail: str = Field(description="What is wrong, for people.")


class DetailBody(BaseModel):
    detail: str = Field(examples=["a valid read token is required"])


class NotReadyBody(BaseModel):
    status: str = Field(examples=["unavailable"])
    problems: list[str] = Field(examples=[["database_unavailable", "kafka_unavailable"]])


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}
# Every query route can answer these (besides 200 and FastAPI's own 422).
QUERY_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": DetailBody, "description": "Missing or unknown read token."},
    404: {
        "model": DetailBody,
        "description": "No such path: e.g. an id holding a line break matches no route.",
    },
    503: {
        "model": ErrorBody,
        "description": "The database is unavailable (`database_unavailable`) or no projection "
        "version is live yet (`no_live_version`); retry after Retry-After seconds.",
        "headers": _RETRY_AFTER,
    },
}

_bearer = HTTPBearer(auto_error=False, description="A read token (READ_TOKENS).")


def _token_checker(digests: Iterable[str]) -> Callable[..., Awaitable[None]]:
    # Compares the token's digest with every configured one in constant time.
    matcher = DigestMatcher((digest, True) for digest in digests)

    async def check(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if credentials is None or matcher.match(credentials.credentials) is None:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="a valid read token is required (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def create_app(
    *,
    query_deps: QueryDeps,
    read_tokens: Iterable[str],  # digests (sha256:<hex>)
    readiness: Readiness,
    registry: CollectorRegistry,
    lifespan: Lifespan | None = None,
) -> FastAPI:
    app = FastAPI(
        title="Assessment — quality public service (优质服务常态化)",
        version="1",
        description="Read-only projections: efficiency warnings, unit alerts, monthly "
        "figures, scorecards, overdue complaints, early warnings.",
        lifespan=lifespan,
        docs_url=None,  # served offline below
        redoc_url=None,
    )
    app.state.query_deps = query_deps
    check_token = _token_checker(read_tokens)
    app.include_router(router, dependencies=[Depends(check_token)], responses=QUERY_RESPONSES)
    install_dashboard(app, check_token=check_token)
    install_offline_docs(app)
    install_latency_histogram(
        app,
        name="assessment_http_request_seconds",
        documentation="Read API and dashboard latency by route",
        registry=registry,
    )

    retry_after = {"Retry-After": str(RETRY_AFTER_S)}

    @app.exception_handler(NoLiveVersionError)
    async def no_live_version(_: Request, error: NoLiveVersionError) -> JSONResponse:
        body = {"error": "no_live_version", "detail": str(error)}
        return JSONResponse(body, status_code=503, headers=retry_after)

    async def database_down(request: Request, error: Exception) -> JSONResponse:
        # The driver's text names hosts, roles and databases: it goes to the log only.
        log.warning("%s %s: database unavailable: %r", request.method, request.url.path, error)
        body = {
            "error": "database_unavailable",
            "detail": "the database is not reachable now; retry after Retry-After seconds",
        }
        return JSONResponse(body, status_code=503, headers=retry_after)

    for failure in DATABASE_UNAVAILABLE:
        app.add_exception_handler(failure, database_down)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["ops"],
        responses={
            503: {
                "model": NotReadyBody,
                "description": "Not ready: the stable codes of what is missing.",
                "headers": _RETRY_AFTER,
            }
        },
    )
    async def readyz() -> JSONResponse:
        problems = await readiness()
        if problems:
            return JSONResponse(
                {"status": "unavailable", "problems": problems},
                status_code=503,
                headers=retry_after,
            )
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
