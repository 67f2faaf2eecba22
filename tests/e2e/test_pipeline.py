"""intake (HTTP) → Kafka → assessment → query API, as upstream systems use it."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.generator import Generator
from shared.tokens import token_digest
from tests.support.assessment_env import AssessmentEnv, caught_up, oracle
from tests.support.processes import ServiceProcess
from tests.support.stack import free_port
from tests.support.topics import read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
TOKEN = "e2e-intake-token"


def intake_process(env: AssessmentEnv) -> ServiceProcess:
    port = free_port()
    process = ServiceProcess(
        [str(BIN / "intake"), "serve"],
        env={
            **env.env,
            "INTAKE_PORT": str(port),
            "INTAKE_TOKENS": f"{token_digest(TOKEN)}=*",
            "INTAKE_RAW_GROUP": f"{env.env['ASSESSMENT_GROUP']}-raw",
        },
        port=port,
        log=env.logs / "intake.log",
    )
    env.processes.append(process)
    return process.start()


async def all_warnings(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/warnings", params=params)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_events_sent_to_intake_become_warnings_once(assessment_env: AssessmentEnv) -> None:
    await assessment_env.create_topics()
    intake = intake_process(assessment_env).wait_ready()
    assessment = assessment_env.start().wait_ready()
    events = list(Generator(seed=21, units=8, staff_per_unit=4).events(1500, span_days=200))
    retried = random.Random(21).sample(events, 100)  # a client that retries after a timeout

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{intake.port}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    ) as client:
        for start in range(0, len(events), 500):
            answer = await client.post("/v1/events", json=events[start : start + 500])
            assert answer.status_code == 202, answer.text
            assert answer.json()["accepted"] == len(events[start : start + 500])
        for event in retried:
            assert (await client.post("/v1/events", json=event)).status_code == 202
        bad = {**events[0], "id": "bad-1", "data": {**events[0]["data"], "extra": 1}}
        rejected = await client.post("/v1/events", json=[events[1], bad])
        assert rejected.status_code == 422
        assert rejected.json()["errors"][0]["index"] == 1

    async with assessment_env.client(assessment) as api:
        total = len(events) + len(retried)
        await wait_for(lambda: caught_up(api, total), timeout=120, what="catch-up")
        warnings = await all_warnings(api)
        status = (await api.get("/v1/status")).json()

    expected = oracle(events)
    assert sorted(w["id"] for w in warnings) == sorted(w.id for w in expected.warnings)
    assert {w["status"] for w in warnings} <= {"active", "revoked"}
    logged = await read_topic(assessment_env.kafka, assessment_env.topics.events)
    # Offsets are no count of records: each batch's transaction ends in a commit marker.
    assert len(logged) == total, "the rejected batch published nothing"
    assert status["lag"] == 0
