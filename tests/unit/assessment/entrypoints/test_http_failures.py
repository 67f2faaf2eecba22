"""The read API when its dependencies fail: stable codes, never the driver's words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from services.assessment.adapters.read_model import ReadModel
from services.assessment.entrypoints.http.app import create_app
from services.assessment.entrypoints.http.routes import QueryDeps
from shared.tokens import token_digest

pytestmark = pytest.mark.unit

TOKEN = "unit-read-token"
DRIVER_TEXT = "connection to 10.1.2.3:5432 refused for role svc_reader in db norm_prod"


class DownPool:
    """A pool whose database is unreachable, as asyncpg reports it."""

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        raise ConnectionRefusedError(111, DRIVER_TEXT)
        yield  # pragma: no cover


async def no_offsets(_: str) -> dict[int, int] | None:
    return None


async def down_readiness() -> list[str]:
    return ["database_unavailable", "kafka_unavailable"]


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        query_deps=QueryDeps(
            read_model=ReadModel(DownPool()),  # type: ignore[arg-type]
            topic="events.v1",
            end_offsets=no_offsets,
            clock=lambda: datetime.now(UTC),
        ),
        read_tokens=[token_digest(TOKEN)],
        readiness=down_readiness,
        registry=CollectorRegistry(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://assessment") as client:
        yield client


@pytest.mark.parametrize(
    "path", ["/v1/status", "/v1/warnings", "/v1/units/qsb%2Flicensing/stats", "/v1/watchlist"]
)
async def test_queries_during_a_database_outage_get_503_database_unavailable(
    api: httpx.AsyncClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await api.get(path, headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 503
    assert response.json()["error"] == "database_unavailable"
    assert response.headers["retry-after"] == "2"
    assert "10.1.2.3" not in response.text
    assert "svc_reader" not in response.text
    assert DRIVER_TEXT in caplog.text  # the operators still see it


async def test_readyz_names_stable_codes_only(api: httpx.AsyncClient) -> None:
    response = await api.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "problems": ["database_unavailable", "kafka_unavailable"],
    }
    assert response.headers["retry-after"] == "2"


async def test_an_outage_does_not_open_the_api_to_anonymous_readers(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/v1/status")

    assert response.status_code == 401


async def test_every_query_route_solves_its_parameters_without_a_worker_thread(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI calls a plain-function or class dependency in a worker thread: a hand-off
    per request, off the event loop the fold runs on. Every dependency here is async."""
    from starlette.concurrency import run_in_threadpool

    handed_off: list[str] = []

    async def recording(func: Any, *args: Any, **kwargs: Any) -> Any:
        handed_off.append(getattr(func, "__qualname__", repr(func)))
        return await run_in_threadpool(func, *args, **kwargs)

    monkeypatch.setattr("fastapi.dependencies.utils.run_in_threadpool", recording)
    spec = (await api.get("/openapi.json")).json()
    paths = [path.replace("{staff_id}", "E1").replace("{unit_id}", "u1") for path in spec["paths"]]
    queries = [path for path in paths if path.startswith("/v1/")]
    assert {"/v1/warnings", "/v1/alerts"} <= set(queries)

    for path in queries:
        response = await api.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 503, path  # parameters solved, then the outage

    assert handed_off == []
