"""(c) of the rebuild benchmark: intake 202 → visible in the query API.

Starts intake and assessment as real processes on the benchmark's topics and database,
sends a steady load through intake's HTTP API, and among it probe events: each probe is
an absence from post of a person of its own, so it makes exactly one warning, whose id
is known in advance. The latency of a probe is the time from intake's 202 to the first
answer of GET /v1/staff/{probe}/warnings that contains that warning.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.generator import Generator
from services.assessment.domain.ids import WARNING_PREFIX, stable_id
from shared.kafka_client import KafkaConnection
from shared.tokens import token_digest
from tests.support.processes import ServiceProcess
from tests.support.stack import free_port

BIN = Path(sys.executable).parent
INTAKE_TOKEN = "bench-token"
READ_TOKEN = "bench-read"
PROBES_PER_SECOND = 10
TICK = 0.1  # the load is sent in one batch per tick


def _probe(n: int, when: datetime, tag: str = "") -> tuple[dict[str, Any], str, str]:
    event_id, staff = f"{tag}probe-{n:06d}", f"{tag}probe-{n:06d}"
    event = {
        "id": event_id,
        "type": "inspection.recorded",
        "source": "bench-probe",
        "occurred_at": when.isoformat(timespec="seconds"),
        "unit_id": f"probe-unit-{n % 20}",
        "data": {
            "inspection_id": event_id,
            "mode": "open",
            "inspector": "bench",
            "findings": [{"code": "absent_from_post", "staff_id": staff}],
        },
    }
    warning_id = stable_id(WARNING_PREFIX, "absence", "bench-probe", event_id, 0)
    return event, staff, warning_id


class _Watcher:
    """One poller for every outstanding probe: a single list query per interval, so
    that measuring does not load the service it measures."""

    def __init__(self, api: httpx.AsyncClient, interval: float = 0.01) -> None:
        self._api = api
        self._interval = interval
        self._sent: dict[str, tuple[float, str]] = {}  # warning id -> (sent at, occurred_at)
        self.latencies: list[float] = []

    def expect(self, warning_id: str, sent: float, occurred_at: str) -> None:
        self._sent[warning_id] = (sent, occurred_at)

    async def run(self, until_done: asyncio.Event) -> None:
        while self._sent or not until_done.is_set():
            if self._sent:
                oldest = min(occurred for _, occurred in self._sent.values())
                answer = await self._api.get(
                    "/v1/warnings",
                    params={"rule": "absence_from_post", "from": oldest, "limit": 500},
                )
                now = time.perf_counter()
                for item in answer.json().get("items", []) if answer.status_code == 200 else []:
                    found = self._sent.pop(item["id"], None)
                    if found is not None:
                        self.latencies.append((now - found[0]) * 1000)
            await asyncio.sleep(self._interval)


async def _drive(
    intake: httpx.AsyncClient, api: httpx.AsyncClient, rate: int, seconds: int, tag: str
) -> list[float]:
    load = Generator(seed=4242).events(rate * seconds)
    per_tick = max(1, int(rate * TICK) - int(PROBES_PER_SECOND * TICK))
    probes_per_tick = max(1, int(PROBES_PER_SECOND * TICK))
    watcher = _Watcher(api)
    sending_done = asyncio.Event()
    polling = asyncio.create_task(watcher.run(sending_done))
    started = time.perf_counter()
    probe = 0
    for tick in range(int(seconds / TICK)):
        batch = []
        for event in (next(load, None) for _ in range(per_tick)):
            if event is not None:
                event["id"] = f"{tag}live-{event['id']}"
                batch.append(event)
        if batch:
            answer = await intake.post("/v1/events", json=batch)
            answer.raise_for_status()
        for _ in range(probes_per_tick):
            event, _, warning_id = _probe(probe, datetime.now(UTC) - timedelta(seconds=1), tag)
            probe += 1
            answer = await intake.post("/v1/events", json=event)
            answer.raise_for_status()
            watcher.expect(warning_id, time.perf_counter(), event["occurred_at"])
        # Hold the pace: the next tick starts TICK after this one was due.
        await asyncio.sleep(max(0.0, started + (tick + 1) * TICK - time.perf_counter()))
    sending_done.set()
    await asyncio.wait_for(polling, timeout=120)
    return watcher.latencies


async def measure_live_latency(
    *,
    kafka: KafkaConnection,
    database_url: str,
    prefix: str,
    rate: int,
    seconds: int,
    tag: str = "",
) -> dict[str, float | None]:
    """`tag` prefixes the ids of this run's events, so that several runs on one topic
    (one per rate) each measure their own probes."""
    env = {
        **os.environ,
        **kafka.environment(),
        "KAFKA_TOPIC_PREFIX": prefix,
        # One role for everything in the benchmark's scratch database (its owner).
        "DATABASE_URL": database_url,
        "DATABASE_OWNER_URL": database_url,
        "DATABASE_READ_URL": database_url,
        "INTAKE_TOKENS": f"{token_digest(INTAKE_TOKEN)}=*",
        "INTAKE_RATE_PER_S": "1000000",  # measure latency, not the rate limit
        "INTAKE_RATE_BURST": "1000000",
        "READ_TOKENS": token_digest(READ_TOKEN),
        "LOG_LEVEL": "WARNING",
    }
    logs = Path(os.environ.get("BENCH_LOGS", "/tmp"))
    intake_port, assessment_port = free_port(), free_port()
    intake = ServiceProcess(
        [str(BIN / "intake"), "serve"],
        env={**env, "INTAKE_PORT": str(intake_port)},
        port=intake_port,
        log=logs / "bench-intake.log",
    )
    assessment = ServiceProcess(
        [str(BIN / "assessment"), "run"],
        env={**env, "ASSESSMENT_PORT": str(assessment_port), "ASSESSMENT_GROUP": f"{prefix}live"},
        port=assessment_port,
        log=logs / "bench-assessment.log",
    )
    try:
        intake.start().wait_ready()
        assessment.start().wait_ready()
        async with (
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{intake_port}",
                headers={"Authorization": f"Bearer {INTAKE_TOKEN}"},
                timeout=30,
            ) as intake_client,
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{assessment_port}",
                headers={"Authorization": f"Bearer {READ_TOKEN}"},
                timeout=30,
            ) as api,
        ):
            latencies = await _drive(intake_client, api, rate, seconds, tag)
    finally:
        assessment.stop()
        intake.stop()
    if not latencies:
        return {"p50_ms": None, "p99_ms": None}
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50_ms": round(statistics.median(latencies), 1), "p99_ms": round(cuts[98], 1)}
