"""Running the assessment service against the real stack, isolated by a topic prefix,
a consumer group and a database of the test's own (the `assessment_env` fixture)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from services.assessment.domain.event_facts import facts_from_events
from services.assessment.domain.policy import load_default_policy
from services.assessment.domain.reference import History, evaluate_history
from services.assessment.domain.results import Alert, ComplaintState, Warning
from shared.events import parse_recorded
from shared.kafka_client import KafkaConnection
from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from shared.tokens import token_digest
from shared.topics import TopicNames
from tests.support.kafka import publish_recorded
from tests.support.processes import ServiceProcess, assessment_process
from tests.support.stack import Databases, free_port
from tests.support.waiting import wait_for

READ_TOKEN = "test-read-token"
BIN = Path(sys.executable).parent


@dataclass
class AssessmentEnv:
    env: dict[str, str]
    topics: TopicNames
    kafka: KafkaConnection
    database_url: str  # the owner's: the tests inspect everything
    databases: Databases
    logs: Path
    processes: list[ServiceProcess]

    async def create_topics(self) -> None:
        await ensure_topics(kafka=self.kafka, specs=platform_topics(self.topics), partitions=3)

    def start(
        self, *, consumer: bool = True, extra: dict[str, str] | None = None
    ) -> ServiceProcess:
        port = free_port()
        process = assessment_process(
            env={**self.env, **(extra or {})},
            port=port,
            log=self.logs / f"assessment-{port}.log",
            consumer=consumer,
        )
        self.processes.append(process)
        return process.start()

    def client(self, process: ServiceProcess) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{process.port}",
            headers={"Authorization": f"Bearer {READ_TOKEN}"},
            timeout=10,
        )

    async def serving(self, history: list[dict[str, object]]) -> httpx.AsyncClient:
        """Topics created, `history` published, one service started and caught up with
        it; returns a client of its query API (the caller closes it)."""
        await self.create_topics()
        await publish_recorded(self.kafka, self.topics.events, history)
        client = self.client(self.start().wait_ready())
        await wait_for(lambda: caught_up(client, len(history)), timeout=120, what="catch-up")
        return client

    def cli_process(self, *args: str, extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """`assessment <args>` under way (to watch or kill it): our own console script
        with the service's settings; stdout and stderr in one pipe."""
        return subprocess.Popen(
            [str(BIN / "assessment"), *args],
            env={**os.environ, **self.env, **(extra or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    async def cli(
        self, *args: str, extra: dict[str, str] | None = None, expect: int = 0, seconds: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """`assessment <args>` run to its end, as an operator runs it, with the service's
        settings; asserts that it exits with `expect` (killed after `seconds`)."""
        done = await asyncio.to_thread(
            subprocess.run,
            [str(BIN / "assessment"), *args],
            env={**os.environ, **self.env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=seconds,
            check=False,
        )
        assert done.returncode == expect, done.stdout + done.stderr
        return done


@pytest.fixture
def assessment_env(  # registered in tests/conftest.py
    kafka: KafkaConnection, scratch_databases: Databases, unique: str, tmp_path: Path
) -> Iterator[AssessmentEnv]:
    prefix = f"t{unique}."
    setup = AssessmentEnv(
        env={
            **kafka.environment(),
            **scratch_databases.environment(),
            "KAFKA_TOPIC_PREFIX": prefix,
            "TOPIC_PARTITIONS": "3",
            "ASSESSMENT_GROUP": f"assessment-{unique}",
            "READ_TOKENS": token_digest(READ_TOKEN),
            "LOG_LEVEL": "INFO",
        },
        topics=TopicNames.with_prefix(prefix),
        kafka=kafka,
        database_url=scratch_databases.owner,
        databases=scratch_databases,
        logs=tmp_path,
        processes=[],
    )
    yield setup
    for process in setup.processes:
        process.stop()
    asyncio.run(delete_topics(kafka=kafka, prefix=prefix))


def oracle(events: list[dict[str, Any]]) -> History:
    parsed = [
        parse_recorded(orjson.dumps({**e, "recorded_at": "2026-11-01T00:00:00Z"})) for e in events
    ]
    distinct = list({event.key: event for event in parsed}.values())
    facts = facts_from_events(distinct)
    return evaluate_history(
        filings=facts.filings,
        verdicts=facts.verdicts,
        findings=facts.findings,
        policy=load_default_policy(),
    )


def oracle_rows(
    events: list[dict[str, Any]],
) -> tuple[list[Warning], list[Alert], list[ComplaintState]]:
    """The warnings, alerts and complaints the oracle gives for `events`, in the shape of
    Projection.rows() (what a version of the database must hold for them)."""
    expected = oracle(events)
    return list(expected.warnings), list(expected.alerts), list(expected.complaints)


def records_folded(metrics: str) -> float:
    """How many records an instance folded, from its /metrics page (fails if absent)."""
    folded = [
        line
        for line in metrics.splitlines()
        if line.startswith('assessment_records_total{outcome="folded"}')
    ]
    assert folded, metrics[-2000:]
    return float(folded[0].split()[-1])


async def caught_up(client: httpx.AsyncClient, total: int) -> bool:
    """True once the live version has folded `total` records (lag 0)."""
    answer = await client.get("/v1/status")
    if answer.status_code != 200:
        return False
    status = answer.json()
    folded = sum((p["position"] + 1) for p in status["partitions"] if p["position"] is not None)
    return bool(folded >= total and status["lag"] == 0)
