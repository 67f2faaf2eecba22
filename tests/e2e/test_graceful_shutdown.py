"""Graceful shutdown on SIGTERM, with real processes and real signals: intake stops
taking requests and finishes the one in flight (202 only after Kafka's acks); the
assessment finishes and commits the batch in hand, then leaves its consumer group."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import asyncpg
import orjson
import pytest

from bench.generator import Generator
from services.assessment.adapters.versions import WRITER_LOCK_CLASS
from shared.events import parse_recorded
from shared.kafka_client import KafkaConnection
from shared.topics import TopicNames
from tests.support.assessment_env import AssessmentEnv, caught_up
from tests.support.events import complaint_filed, to_json
from tests.support.kafka import publish_recorded
from tests.support.processes import lone_intake
from tests.support.projections import live_schema
from tests.support.topics import committed_offsets, group_members, read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
TOKEN = "shutdown-token"


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


async def test_intake_finishes_the_request_in_flight_and_takes_no_new_ones(
    kafka: KafkaConnection, unique: str, tmp_path: Path
) -> None:
    prefix = f"term{unique}."
    intake = lone_intake(
        kafka, prefix=prefix, raw_group=f"raw-{unique}", token=TOKEN, log=tmp_path / "intake.log"
    )
    intake.start().wait_ready()
    events = [complaint_filed() for _ in range(20)]
    body = orjson.dumps([to_json(event) for event in events])
    assert intake.process is not None
    with socket.create_connection(("127.0.0.1", intake.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/events HTTP/1.1\r\nHost: intake\r\n"
            + f"Authorization: Bearer {TOKEN}\r\n".encode()
            + b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        # The handler has started reading the body: the request is in flight.
        assert read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 100")
        sock.sendall(body[: len(body) // 2])
        intake.process.send_signal(signal.SIGTERM)
        await wait_for(
            lambda: asyncio.to_thread(refuses_connections, intake.port),
            timeout=30,
            what="intake to stop taking connections",
        )
        still_running = intake.process.poll() is None
        sock.sendall(body[len(body) // 2 :])
        answer = read_until(sock, b'"ids"')
    exit_code = await asyncio.to_thread(intake.process.wait, 60)

    assert still_running, "intake waits for the request in flight"
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 202"), answer
    assert b"connection: close" in head.lower()
    assert orjson.loads(payload)["ids"] == [event.id for event in events]
    topic = TopicNames.with_prefix(prefix).events
    stored = [parse_recorded(r.body).id for r in await read_topic(kafka, topic)]
    assert stored == [event.id for event in events], "202 came after Kafka's acks"
    assert exit_code in {0, -signal.SIGTERM}
    assert "Traceback" not in intake.log.read_text()


async def test_assessment_commits_the_batch_in_hand_then_leaves_the_group(
    assessment_env: AssessmentEnv,
) -> None:
    await assessment_env.create_topics()
    generator = Generator(seed=41, units=6, staff_per_unit=3)
    first = list(generator.events(300, span_days=100))
    second = [{**e, "id": f"second-{e['id']}"} for e in generator.events(300, span_days=100)]
    topic = assessment_env.topics.events
    group = assessment_env.env["ASSESSMENT_GROUP"]
    await publish_recorded(assessment_env.kafka, topic, first)
    service = assessment_env.start().wait_ready()
    async with assessment_env.client(service) as client:
        await wait_for(lambda: caught_up(client, len(first)), timeout=60, what="catch-up")

    # Hold the live version's writer lock: the next batch waits for it mid-transaction.
    holder = await asyncpg.connect(assessment_env.database_url)
    await holder.execute("SELECT pg_advisory_lock($1, 1)", WRITER_LOCK_CLASS)
    try:
        await publish_recorded(assessment_env.kafka, topic, second)

        async def batch_waiting() -> bool:
            return bool(
                await holder.fetchval(
                    """SELECT count(*) > 0 FROM pg_locks
                        WHERE locktype = 'advisory' AND NOT granted
                          AND classid = $1 AND objid = 1 AND database =
                              (SELECT oid FROM pg_database WHERE datname = current_database())""",
                    WRITER_LOCK_CLASS,
                )
            )

        await wait_for(batch_waiting, timeout=60, what="a batch in hand, waiting for the lock")
        assert service.process is not None
        service.process.send_signal(signal.SIGTERM)
        await wait_for(
            lambda: asyncio.to_thread(lambda: "Shutting down" in service.log.read_text()),
            timeout=30,
            what="the service to begin its shutdown",
        )
        still_running = service.process.poll() is None
    finally:
        await holder.close()  # releases the lock: the batch in hand can commit
    exit_code = await asyncio.to_thread(service.process.wait, 60)

    conn = await asyncpg.connect(assessment_env.database_url)
    try:
        schema = await live_schema(conn)
        rows = await conn.fetch(f'SELECT partition, "offset" FROM {schema}.positions')
    finally:
        await conn.close()
    stored = {row["partition"]: row["offset"] for row in rows}
    committed = await committed_offsets(assessment_env.kafka, group, topic)

    assert still_running, "the assessment waits for the batch in hand"
    assert sum(offset + 1 for offset in stored.values()) > len(first), "the batch was committed"
    # Kafka's offsets follow the committed transaction (empty partitions commit 0).
    assert {p: o for p, o in committed.items() if o} == {p: o + 1 for p, o in stored.items()}
    assert await group_members(assessment_env.kafka, group) == 0, "it left the group"
    assert exit_code in {0, -signal.SIGTERM}
