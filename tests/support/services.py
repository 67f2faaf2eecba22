"""Both services as real processes on the real stack, fed a known history, for tests
that look at them from outside (a browser, a Prometheus scrape)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from shared.tokens import token_digest
from shared.topics import TopicNames
from tests.support.assessment_env import READ_TOKEN
from tests.support.kafka import publish_recorded
from tests.support.processes import ServiceProcess, assessment_process
from tests.support.stack import free_port
from tests.support.waiting import wait_for

BIN = Path(sys.executable).parent
INTAKE_TOKEN = "services-intake-token"


@dataclass
class RunningServices:
    assessment: ServiceProcess
    intake: ServiceProcess
    topics: TopicNames

    @property
    def assessment_url(self) -> str:
        return f"http://127.0.0.1:{self.assessment.port}"

    @property
    def intake_url(self) -> str:
        return f"http://127.0.0.1:{self.intake.port}"

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.assessment_url,
            headers={"Authorization": f"Bearer {READ_TOKEN}"},
            timeout=30,
        )

    async def get(self, path: str, **params: Any) -> Any:
        async with self.api() as api:
            answer = await api.get(path, params=params)
            answer.raise_for_status()
            return answer.json()


async def _create_database(database_url: str, name: str, *, drop: bool = False) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        if drop:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _folded(services: RunningServices, total: int) -> bool:
    try:
        status = await services.get("/v1/status")
    except httpx.HTTPError:
        return False
    folded = sum(p["position"] + 1 for p in status["partitions"] if p["position"] is not None)
    return bool(folded >= total and status["lag"] == 0)


@asynccontextmanager
async def running_services(
    *, kafka_bootstrap: str, database_url: str, events: list[dict[str, Any]], logs: Path
) -> AsyncIterator[RunningServices]:
    """Assessment and intake on topics and a database of their own, with `events`
    published to events.v1 and folded before this yields."""
    unique = uuid.uuid4().hex[:10]
    prefix, database = f"t{unique}.", f"test_{unique}"
    topics = TopicNames.with_prefix(prefix)
    await _create_database(database_url, database)
    env = {
        "KAFKA_BOOTSTRAP": kafka_bootstrap,
        "DATABASE_URL": f"{database_url.rpartition('/')[0]}/{database}",
        "KAFKA_TOPIC_PREFIX": prefix,
        "TOPIC_PARTITIONS": "3",
        "ASSESSMENT_GROUP": f"assessment-{unique}",
        "READ_TOKENS": token_digest(READ_TOKEN),  # the service takes digests only
        "LOG_LEVEL": "INFO",
    }
    await ensure_topics(bootstrap=kafka_bootstrap, specs=platform_topics(topics), partitions=3)
    await publish_recorded(kafka_bootstrap, topics.events, events)
    port = free_port()
    assessment = assessment_process(env=env, port=port, log=logs / "assessment.log")
    intake_port = free_port()
    intake = ServiceProcess(
        [str(BIN / "intake"), "serve"],
        env={**env, "INTAKE_PORT": str(intake_port),
             "INTAKE_TOKENS": f"{token_digest(INTAKE_TOKEN)}=*",  # digests only
             "INTAKE_RAW_GROUP": f"intake-raw-{unique}"},
        port=intake_port,
        log=logs / "intake.log",
    )  # fmt: skip
    services = RunningServices(assessment=assessment, intake=intake, topics=topics)
    try:
        assessment.start()
        intake.start()
        await asyncio.to_thread(assessment.wait_ready)
        await asyncio.to_thread(intake.wait_ready)
        await wait_for(lambda: _folded(services, len(events)), timeout=120, what="folding")
        yield services
    finally:
        intake.stop()
        assessment.stop()
        await delete_topics(bootstrap=kafka_bootstrap, prefix=prefix)
        await _create_database(database_url, database, drop=True)
