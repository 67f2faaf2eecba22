"""The real broker works the way the services rely on it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from shared.kafka_client import KafkaConnection, aiokafka_options, faststream_options
from shared.kafka_topics import TopicSpec, ensure_topics
from tests.support.stack import PrivateBroker

pytestmark = pytest.mark.integration


async def test_faststream_round_trip_with_key_and_headers_in_a_consumer_group(
    kafka: KafkaConnection, unique: str
) -> None:
    topic = f"smoke.{unique}"
    created = await ensure_topics(kafka=kafka, specs=(TopicSpec(topic),), partitions=3)
    assert created == [topic]
    again = await ensure_topics(kafka=kafka, specs=(TopicSpec(topic),), partitions=3)
    assert again == [], "creating existing topics is harmless"

    received: asyncio.Queue[tuple[Any, bytes | None, dict[str, Any]]] = asyncio.Queue()
    broker = KafkaBroker(**faststream_options(kafka), enable_idempotence=True, acks="all")
    group = f"smoke-{unique}"

    @broker.subscriber(
        topic, group_id=group, auto_offset_reset="earliest", ack_policy=AckPolicy.NACK_ON_ERROR
    )
    async def handle(body: dict[str, Any], msg: KafkaMessage) -> None:
        record = msg.raw_message
        assert not isinstance(record, tuple)  # a single-record subscriber
        await received.put((body, record.key, dict(msg.headers)))

    async with broker:
        await broker.start()
        await broker.publish(
            {"n": 1, "text": "优质服务"}, topic, key=b"qsb/licensing", headers={"event-type": "x"}
        )
        body, key, headers = await asyncio.wait_for(received.get(), timeout=60)

    assert body == {"n": 1, "text": "优质服务"}
    assert key == b"qsb/licensing"
    assert headers["event-type"] == "x"
    # The group committed past the record only after the handler returned.
    consumer = AIOKafkaConsumer(**aiokafka_options(kafka), group_id=group)
    await consumer.start()
    try:
        committed = [
            await consumer.committed(TopicPartition(topic, partition)) for partition in range(3)
        ]
    finally:
        await consumer.stop()
    assert sorted(offset or 0 for offset in committed) == [0, 0, 1]


async def _produce(kafka: KafkaConnection, topic: str, values: range) -> None:
    producer = AIOKafkaProducer(**aiokafka_options(kafka), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, str(value).encode(), key=b"k")
    finally:
        await producer.stop()


async def _consume(kafka: KafkaConnection, topic: str, group: str, count: int) -> list[int]:
    """Read `count` records as a group member, committing each batch after reading it."""
    consumer = AIOKafkaConsumer(
        topic,
        **aiokafka_options(kafka),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: list[int] = []
    try:
        async with asyncio.timeout(60):
            while len(seen) < count:
                batch = await consumer.getmany(timeout_ms=1000, max_records=count - len(seen))
                for records in batch.values():
                    seen.extend(int(record.value) for record in records)
                if batch:
                    await consumer.commit()
    finally:
        await consumer.stop()
    return seen


async def test_consumer_resumes_from_its_committed_position_after_a_broker_restart(
    private_broker: PrivateBroker, unique: str
) -> None:
    topic, group = f"restart.{unique}", f"restart-{unique}"
    await ensure_topics(kafka=private_broker.kafka, specs=(TopicSpec(topic),), partitions=1)
    await _produce(private_broker.kafka, topic, range(10))
    first = await _consume(private_broker.kafka, topic, group, 4)

    private_broker.stop()
    private_broker.start()

    await _produce(private_broker.kafka, topic, range(10, 15))
    rest = await _consume(private_broker.kafka, topic, group, 11)

    assert first == [0, 1, 2, 3]
    assert rest == list(range(4, 15)), "nothing lost, nothing read twice"
