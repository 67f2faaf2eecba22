"""The read API's FastAPI application (built by bootstrap; nothing at import time)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest

from services.assessment.adapters.db import DATABASE_UNAVAILABLE
from services.assessment.adapters.read_model import NoLiveVersionError
from services.assessment.entrypoints.http.routes import QueryDeps, router

Readiness = Callable[[], Awaitable[list[str]]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

DATABASE_RETRY_AFTER_S = 5
_bearer = HTTPBearer(auto_error=False, description="A read token (READ_TOKENS).")


def _token_checker(tokens: Iterable[str]) -> Callable[..., Awaitable[None]]:
    allowed = tuple(tokens)

    async def check(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        given = credentials.credentials if credentials else ""
        # Compare against every token in constant time: no early exit leaks which matched.
        matched = False
        for token in allowed:
            matched |= secrets.compare_digest(given.encode(), token.encode())
        if not matched:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="a valid read token is required (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def create_app(
    *,
    query_deps: QueryDeps,
    read_tokens: Iterable[str],
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
    )
    app.state.query_deps = query_deps
    app.include_router(router, dependencies=[Depends(_token_checker(read_tokens))])
    latency = Histogram(
        "assessment_http_request_seconds",
        "Read API latency by route",
        ["route", "status"],
        registry=registry,
    )

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        latency.labels(path, str(response.status_code)).observe(time.perf_counter() - started)
        return response

    @app.exception_handler(NoLiveVersionError)
    async def no_live_version(_: Request, error: NoLiveVersionError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "2"})

    async def database_unavailable(_: Request, error: Exception) -> JSONResponse:
        # An outage of the environment, not a fault of the request: retry later.
        return JSONResponse(
            {"error": "database_unavailable", "detail": "the database cannot be reached"},
            status_code=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )

    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, database_unavailable)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        problems = await readiness()
        if problems:
            return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["ops"])
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
