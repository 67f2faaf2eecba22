"""Start in any order: each service starts with its dependency down, serves /healthz,
answers /readyz 503 with the reason, and connects in the background once the
dependency is up; queries during a database outage answer 503 database_unavailable."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from bench.generator import Generator
from shared.events import parse_recorded
from shared.topics import TopicNames
from tests.support.assessment_env import AssessmentEnv, caught_up
from tests.support.events import complaint_filed, to_wire
from tests.support.kafka import publish_recorded
from tests.support.processes import ServiceProcess, lone_intake
from tests.support.proxy import TcpProxy
from tests.support.stack import PrivateBroker
from tests.support.topics import read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
TOKEN = "any-order-token"


def base_url(process: ServiceProcess) -> str:
    return f"http://127.0.0.1:{process.port}"


async def answering(client: httpx.AsyncClient, path: str) -> httpx.Response | None:
    try:
        return await client.get(path)
    except httpx.TransportError:  # not listening yet
        return None


async def test_intake_starts_without_kafka_and_connects_when_it_comes_up(
    private_broker: PrivateBroker, unique: str, tmp_path: Path
) -> None:
    kafka = private_broker.kafka  # its admin's connection, while it runs
    private_broker.stop()
    prefix = f"any{unique}."
    intake = lone_intake(
        kafka, prefix=prefix, raw_group=f"raw-{unique}", token=TOKEN, log=tmp_path / "intake.log"
    ).start()
    try:
        async with httpx.AsyncClient(base_url=base_url(intake), timeout=10) as client:
            health = await wait_for(
                lambda: answering(client, "/healthz"), timeout=60, what="intake listening"
            )
            not_ready = await client.get("/readyz")

            private_broker.start()
            await wait_for(
                lambda: client.get("/readyz"),
                until=lambda answer: answer.status_code == 200,
                timeout=90,
                interval=0.5,
                what="intake ready once Kafka is up",
            )
            event = complaint_filed()
            accepted = await client.post(
                "/v1/events",
                content=to_wire(event),
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            )
    finally:
        intake.stop()
    log = intake.log.read_text()

    assert health is not None
    assert health.status_code == 200
    assert not_ready.status_code == 503
    assert not_ready.headers["retry-after"]
    assert not_ready.json()["error"] == "kafka_unavailable"
    assert not_ready.json()["detail"] == "Kafka is not reachable"  # no client error text
    assert accepted.status_code == 202, accepted.text
    topic = TopicNames.with_prefix(prefix).events
    stored = [parse_recorded(r.body).id for r in await read_topic(kafka, topic)]
    assert stored == [event.id]
    assert "Application startup failed" not in log
    assert "Traceback" not in log
    assert log.count("kafka unavailable (") == 1, "one line per change of state"


async def test_assessment_starts_without_its_database_and_503s_queries_during_an_outage(
    assessment_env: AssessmentEnv,
) -> None:
    await assessment_env.create_topics()
    real = urlsplit(assessment_env.database_url)
    proxy = TcpProxy(target=(real.hostname or "127.0.0.1", real.port or 5432))

    def proxied(url: str) -> str:
        # The same role (name and password) on the same server, through the proxy.
        parts = urlsplit(url)
        login = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{login}@127.0.0.1:{proxy.port}"))

    databases = assessment_env.databases.environment()
    first = list(Generator(seed=31, units=5, staff_per_unit=3).events(300, span_days=100))
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, first)
    service = assessment_env.start(extra={name: proxied(url) for name, url in databases.items()})
    try:
        async with assessment_env.client(service) as client:
            health = await wait_for(
                lambda: answering(client, "/healthz"), timeout=60, what="assessment listening"
            )
            not_ready = await client.get("/readyz")

            await proxy.up()
            await wait_for(
                lambda: client.get("/readyz"),
                until=lambda answer: answer.status_code == 200,
                timeout=60,
                interval=0.3,
                what="assessment ready once the database is up",
            )
            await wait_for(lambda: caught_up(client, len(first)), timeout=60, what="catch-up")

            await proxy.down()
            during = await client.get("/v1/warnings")
            ready_during = await client.get("/readyz")

            await proxy.up()
            later = [{**e, "id": f"later-{e['id']}"} for e in first[:50]]
            await publish_recorded(assessment_env.kafka, assessment_env.topics.events, later)
            await wait_for(
                lambda: caught_up(client, len(first) + len(later)),
                timeout=90,
                what="folding again after the outage",
            )
            after = await client.get("/v1/warnings")
    finally:
        await proxy.down()
    log = service.log.read_text()

    assert health is not None
    assert health.status_code == 200
    assert not_ready.status_code == 503
    problems = not_ready.json()["problems"]
    assert problems[0] in {"database_unavailable", "database_connecting"}
    assert problems[1] == "kafka_waiting_for_database"
    assert during.status_code == 503
    assert during.headers["retry-after"]
    assert during.json()["error"] == "database_unavailable"
    assert ready_during.status_code == 503
    assert after.status_code == 200
    # The connector's lines (a query during the outage logs its own, per request).
    states = [line for line in log.splitlines() if "connecting in the background" in line]
    assert sum("database unavailable" in line for line in states) == 1, "one per change"
