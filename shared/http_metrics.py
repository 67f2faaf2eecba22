"""HTTP request latency for Prometheus: one histogram per service, by route template
(never the raw path, which would make a series per unit id) and status."""

from __future__ import annotations

import time

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Latency:
    """A plain ASGI middleware (Starlette's BaseHTTPMiddleware relays every response
    through a task and a memory stream: a millisecond of CPU per request). A request is
    timed until its response is sent; one that raises is not counted (the server
    answers it with a 500, outside the middlewares)."""

    def __init__(self, app: ASGIApp, *, latency: Histogram) -> None:
        self.app = app
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, send_noting_status)
        path = getattr(scope.get("route"), "path", "unmatched")
        self.latency.labels(path, str(status)).observe(time.perf_counter() - started)


def install_latency_histogram(
    app: FastAPI, *, name: str, documentation: str, registry: CollectorRegistry
) -> Histogram:
    latency = Histogram(
        name, documentation, ["route", "status"], registry=registry, buckets=LATENCY_BUCKETS
    )
    app.add_middleware(_Latency, latency=latency)
    return latency
