"""Publishing to and reading from the real broker in tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared import topics
from shared.events import SCHEMA_VERSION
from shared.kafka_topics import topic_partitions


async def publish_recorded(bootstrap: str, topic: str, events: Iterable[dict[str, Any]]) -> int:
    """Write events to events.v1 the way intake does (stamped JSON, key = unit_id)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    sent = 0
    try:
        pending = []
        for event in events:
            value = orjson.dumps({**event, "recorded_at": "2026-11-01T00:00:00Z"})
            headers = [
                (topics.HEADER_EVENT_TYPE, event["type"].encode()),
                (topics.HEADER_SCHEMA_VERSION, str(SCHEMA_VERSION).encode()),
            ]
            pending.append(
                await producer.send(topic, value, key=event["unit_id"].encode(), headers=headers)
            )
            sent += 1
        for future in pending:
            await future
    finally:
        await producer.stop()
    return sent


async def publish_raw(
    bootstrap: str,
    topic: str,
    value: bytes,
    key: bytes = b"k",
    headers: list[tuple[str, bytes | None]] | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record currently in the topic (reads to the end offsets, no group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        found = await topic_partitions(bootstrap=bootstrap, topic=topic)
        partitions = [TopicPartition(topic, p) for p in found]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Any] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            batch = await consumer.getmany(timeout_ms=1000)
            for items in batch.values():
                records.extend(items)
        return records
    finally:
        await consumer.stop()
