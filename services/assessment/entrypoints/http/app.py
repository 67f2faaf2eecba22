"""The read API's FastAPI application (built by bootstrap; nothing at import time)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from services.assessment.adapters.read_model import NoLiveVersionError
from services.assessment.entrypoints.http.dashboard.pages import install_dashboard
from services.assessment.entrypoints.http.routes import QueryDeps, router
from shared.http_docs import install_offline_docs
from shared.http_metrics import install_latency_histogram

Readiness = Callable[[], Awaitable[list[str]]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

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
        docs_url=None,  # served offline below
        redoc_url=None,
    )
    app.state.query_deps = query_deps
    check_token = _token_checker(read_tokens)
    app.include_router(router, dependencies=[Depends(check_token)])
    install_dashboard(app, check_token=check_token)
    install_offline_docs(app)
    install_latency_histogram(
        app,
        name="assessment_http_request_seconds",
        documentation="Read API and dashboard latency by route",
        registry=registry,
    )

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
