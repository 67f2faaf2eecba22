"""Running the assessment service against the real stack, isolated by a topic prefix,
a consumer group and a database of the test's own (the `assessment_env` fixture)."""

from __future__ import annotations

import asyncio
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
from shared.events import parse_recorded
from shared.kafka_client import KafkaConnection
from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from shared.tokens import token_digest
from shared.topics import TopicNames
from tests.support.processes import ServiceProcess, assessment_process
from tests.support.stack import Databases, free_port

READ_TOKEN = "test-read-token"


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


async def caught_up(client: httpx.AsyncClient, total: int) -> bool:
    """True once the live version has folded `total` records (lag 0)."""
    answer = await client.get("/v1/status")
    if answer.status_code != 200:
        return False
    status = answer.json()
    folded = sum((p["position"] + 1) for p in status["partitions"] if p["position"] is not None)
    return bool(folded >= total and status["lag"] == 0)
