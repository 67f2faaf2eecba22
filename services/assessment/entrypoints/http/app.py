"""The read API's FastAPI application (built by bootstrap; nothing at import time)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest

from services.assessment.adapters.read_model import NoLiveVersionError
from services.assessment.entrypoints.http.routes import QueryDeps, router
from shared.tokens import DigestMatcher

Readiness = Callable[[], Awaitable[list[str]]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

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
