"""HTTP request latency for Prometheus: one histogram per service, by route template
(never the raw path, which would make a series per unit id) and status."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0)


def install_latency_histogram(
    app: FastAPI, *, name: str, documentation: str, registry: CollectorRegistry
) -> Histogram:
    latency = Histogram(
        name, documentation, ["route", "status"], registry=registry, buckets=LATENCY_BUCKETS
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

    return latency
