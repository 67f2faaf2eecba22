"""The FastAPI app factory; nothing is built or connected at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

from fastapi import FastAPI, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from services.intake.domain.grants import TokenRegistry
from services.intake.metrics import IntakeMetrics
from services.intake.service_layer.ports import Publisher, PublishError, Readiness
from services.intake.settings import IntakeSettings
from shared.http_docs import install_offline_docs
from shared.http_metrics import install_latency_histogram

from .events import events_router
from .openapi import RETRY_AFTER_HEADER, install_openapi
from .responses import ErrorBody, json_response

log = logging.getLogger(__name__)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

DESCRIPTION = """\
Accepts events from upstream systems and writes them, validated and stamped with
`recorded_at`, to Kafka topic `events.v1`: the platform's system of record.

`(source, id)` identifies an event: re-sending one is harmless. Upstream systems may
also produce envelopes to `intake.raw.v1` (see the AsyncAPI document).
"""


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    *,
    settings: IntakeSettings,
    publisher: Publisher,
    readiness: Readiness,
    metrics: IntakeMetrics,
    clock: Callable[[], datetime] = utc_now,
    lifespan: Lifespan | None = None,
) -> FastAPI:
    app = FastAPI(
        title="Intake",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline below
        redoc_url=None,
    )
    app.include_router(
        events_router(
            settings=settings,
            publisher=publisher,
            tokens=TokenRegistry(settings.intake_tokens),
            metrics=metrics,
            clock=clock,
        )
    )
    retry_after = {"Retry-After": str(settings.intake_retry_after_s)}

    @app.get("/healthz", tags=["operations"], summary="The process is up")
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Kafka is reachable",
        responses={
            503: {
                "model": ErrorBody,
                "description": "Kafka is not reachable (the reason is in the log).",
                "headers": RETRY_AFTER_HEADER,
            }
        },
    )
    async def readyz() -> Response:
        try:
            await readiness.check_ready()
        except PublishError as failed:
            # Unauthenticated: the client's error text stays in the log.
            log.warning("not ready: %s", failed)
            return json_response(
                {
                    "status": "unavailable",
                    "error": "kafka_unavailable",
                    "detail": "Kafka is not reachable",
                },
                status=503,
                headers=retry_after,
            )
        return json_response({"status": "ready"})

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
    )
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    install_openapi(app)
    install_offline_docs(app)
    install_latency_histogram(
        app,
        name="intake_http_request_seconds",
        documentation="Intake HTTP latency by route and status",
        registry=metrics.registry,
    )
    return app
