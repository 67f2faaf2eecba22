"""The Kafka-native intake on the real broker: forward, dead-letter, commit only after acks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from services.intake.adapters.kafka_publisher import KafkaPublisher
from services.intake.bootstrap import build_raw_broker
from services.intake.domain.records import OutboundRecord
from services.intake.metrics import IntakeMetrics
from services.intake.service_layer.ports import Publisher, PublishTimeoutError
from services.intake.settings import IntakeSettings
from shared.events import Event, parse_recorded, stamp
from shared.kafka_client import KafkaConnection, aiokafka_options
from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from tests.integration.intake.harness import running_intake, settings_for
from tests.support.events import complaint_filed, inspection_recorded, to_json, to_wire
from tests.support.topics import committed_offsets, end_offsets, read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


@asynccontextmanager
async def raw_producer(kafka: KafkaConnection) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(**aiokafka_options(kafka), acks="all")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def test_valid_records_are_forwarded_and_the_rest_dead_lettered(
    kafka: KafkaConnection, unique: str
) -> None:
    settings = settings_for(kafka, unique)
    topics = settings.topics
    good: list[Event] = [
        complaint_filed(unit_id="qsb/licensing"),
        inspection_recorded(unit_id="taxi/fleet-3"),
    ]
    invalid = {**to_json(complaint_filed()), "colour": "red"}
    refused: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes | None]], str]] = [
        # (key, value, headers, expected dlq-reason)
        (b"k1", orjson.dumps(invalid), [], "invalid_event"),
        (b"k2", b"{not json", [("content-type", b"application/json")], "not_json"),
        (b"k3", b"\xff\xfe\x00\x01", [("odd", None), ("latin", b"\xe9t\xe9")], "not_utf8"),
        (None, orjson.dumps([to_json(complaint_filed())]), [], "not_an_object"),
        (b"k5", None, [], "empty"),
    ]
    async with running_intake(settings) as intake, raw_producer(kafka) as producer:
        for event in good:
            await producer.send_and_wait(topics.intake_raw, to_wire(event), key=b"upstream")
        for key, value, headers, _ in refused:
            await producer.send_and_wait(topics.intake_raw, value, key=key, headers=headers)

        forwarded = await wait_for(
            lambda: read_topic(kafka, topics.events),
            until=lambda records: len(records) >= 2,
            what="forwarded events",
        )
        letters = await wait_for(
            lambda: read_topic(kafka, topics.intake_deadletter),
            until=lambda records: len(records) >= len(refused),
            what="dead letters",
        )
        raw_ends = await end_offsets(kafka, topics.intake_raw)
        await wait_for(
            lambda: committed_offsets(kafka, settings.intake_raw_group, topics.intake_raw),
            until=lambda committed: committed == raw_ends,
            what="the group's offsets at the end of intake.raw.v1",
        )
        metrics = (await intake.client.get("/metrics")).text

    stored = {parse_recorded(r.body).id: r for r in forwarded}
    assert set(stored) == {e.id for e in good}
    for event in good:
        record = stored[event.id]
        stored_event = parse_recorded(record.body)
        assert stored_event.recorded_at is not None
        assert stored_event == stamp(event, recorded_at=stored_event.recorded_at)
        assert record.key == event.unit_id.encode()
        assert record.header("event-id") == event.id.encode()

    by_reason = {r.header("dlq-reason").decode(): r for r in letters}
    assert set(by_reason) == {reason for *_, reason in refused}
    for key, value, headers, reason in refused:
        letter = by_reason[reason]
        assert letter.key == key
        assert letter.value == value
        assert letter.header("dlq-origin").decode().startswith(f"{topics.intake_raw}/")
        assert orjson.loads(letter.header("dlq-errors"))
        for name, original in headers:
            assert letter.headers[name] == original  # the raw record's own headers travel along
    invalid_errors = orjson.loads(by_reason["invalid_event"].header("dlq-errors"))
    assert invalid_errors == [{"loc": ["colour"], "msg": "Extra inputs are not permitted"}]
    assert 'intake_rejected_total{channel="kafka",reason="not_utf8"} 1.0' in metrics


class GatedPublisher:
    """The real publisher, held at a gate the test opens; fails the first call if asked."""

    def __init__(self, inner: Publisher, *, fail_first: bool = False) -> None:
        self.inner = inner
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.calls = 0
        self.fail_first = fail_first

    async def publish(self, records: Sequence[OutboundRecord]) -> None:
        self.calls += 1
        self.entered.set()
        await self.gate.wait()
        if self.fail_first and self.calls == 1:
            raise PublishTimeoutError("simulated: Kafka did not acknowledge in time")
        await self.inner.publish(records)


@asynccontextmanager
async def raw_intake_with(
    settings: IntakeSettings, *, gate_open: bool = False, fail_first: bool = False
) -> AsyncIterator[GatedPublisher]:
    """The raw subscriber alone, publishing through a `GatedPublisher` over the real one."""
    real = KafkaPublisher(kafka=settings.kafka, timeout_s=10.0)
    gated = GatedPublisher(real, fail_first=fail_first)
    if gate_open:
        gated.gate.set()
    await ensure_topics(
        kafka=settings.kafka,
        specs=platform_topics(settings.topics),
        partitions=settings.topic_partitions,
    )
    broker = build_raw_broker(
        kafka=settings.kafka,
        topics=settings.topics,
        group=settings.intake_raw_group,
        publisher=gated,
        metrics=IntakeMetrics(),
        retry_pause_s=0.1,
    )
    await real.start()
    try:
        await broker.start()
        try:
            yield gated
        finally:
            await broker.stop()
    finally:
        await real.stop()
        await delete_topics(kafka=settings.kafka, prefix=settings.kafka_topic_prefix)


async def test_the_offset_is_committed_only_after_the_forward_is_acknowledged(
    kafka: KafkaConnection, unique: str
) -> None:
    settings = settings_for(kafka, unique, topic_partitions=1)
    topics = settings.topics
    event = complaint_filed()
    async with raw_intake_with(settings) as gated, raw_producer(kafka) as producer:
        await producer.send_and_wait(topics.intake_raw, to_wire(event))
        await asyncio.wait_for(gated.entered.wait(), timeout=60)

        # The handler holds the record and has not published it: nothing is committed.
        held_commit = await committed_offsets(kafka, settings.intake_raw_group, topics.intake_raw)
        held_events = await read_topic(kafka, topics.events)
        gated.gate.set()
        await wait_for(
            lambda: committed_offsets(kafka, settings.intake_raw_group, topics.intake_raw),
            until=lambda committed: committed == {0: 1},
            what="the commit after the forward",
        )
        forwarded = await read_topic(kafka, topics.events)

    assert held_commit == {}
    assert held_events == []
    assert [parse_recorded(r.body).id for r in forwarded] == [event.id]


async def test_a_failed_forward_is_retried_not_lost(kafka: KafkaConnection, unique: str) -> None:
    settings = settings_for(kafka, unique, topic_partitions=1)
    topics = settings.topics
    event = complaint_filed()
    async with (
        raw_intake_with(settings, gate_open=True, fail_first=True) as failing,
        raw_producer(kafka) as producer,
    ):
        await producer.send_and_wait(topics.intake_raw, to_wire(event))
        forwarded = await wait_for(
            lambda: read_topic(kafka, topics.events),
            until=bool,
            what="the forward after the retry",
        )
        await wait_for(
            lambda: committed_offsets(kafka, settings.intake_raw_group, topics.intake_raw),
            until=lambda committed: committed == {0: 1},
            what="the commit after the retry",
        )

    assert failing.calls == 2
    assert [parse_recorded(r.body).id for r in forwarded] == [event.id]
