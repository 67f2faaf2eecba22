"""The latency histogram: one series per route template and status, whatever the path."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from prometheus_client import CollectorRegistry

from shared.http_metrics import install_latency_histogram

pytestmark = pytest.mark.unit


def counted(registry: CollectorRegistry, route: str, status: str) -> float | None:
    return registry.get_sample_value(
        "test_http_request_seconds_count", {"route": route, "status": status}
    )


async def test_requests_are_counted_by_route_template_and_status() -> None:
    app = FastAPI()
    registry = CollectorRegistry()
    install_latency_histogram(
        app, name="test_http_request_seconds", documentation="test", registry=registry
    )

    @app.get("/units/{unit_id}")
    async def unit(unit_id: str) -> dict[str, str]:
        if unit_id == "none":
            raise HTTPException(status_code=404, detail="no such unit")
        return {"unit_id": unit_id}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b"]))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/units/u1")).status_code == 200
        assert (await client.get("/units/u2")).status_code == 200
        assert (await client.get("/units/none")).status_code == 404
        assert (await client.get("/nowhere")).status_code == 404
        assert (await client.get("/stream")).text == "ab"

    assert counted(registry, "/units/{unit_id}", "200") == 2
    assert counted(registry, "/units/{unit_id}", "404") == 1
    assert counted(registry, "unmatched", "404") == 1
    assert counted(registry, "/stream", "200") == 1
