"""Publishing to and reading from the real broker in tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from shared import topics
from shared.events import SCHEMA_VERSION
from shared.kafka_client import KafkaConnection, aiokafka_options


async def publish_recorded(
    kafka: KafkaConnection,
    topic: str,
    events: Iterable[dict[str, Any]],
    *,
    partition: int | None = None,
) -> int:
    """Write events to events.v1 the way intake does (stamped JSON, key = unit_id); an
    event's own `recorded_at` is kept. `partition`: all to that one partition."""
    producer = AIOKafkaProducer(
        **aiokafka_options(kafka), enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    sent = 0
    try:
        pending = []
        for event in events:
            value = orjson.dumps({"recorded_at": "2026-11-01T00:00:00Z", **event})
            headers = [
                (topics.HEADER_EVENT_TYPE, event["type"].encode()),
                (topics.HEADER_SCHEMA_VERSION, str(SCHEMA_VERSION).encode()),
            ]
            pending.append(
                await producer.send(
                    topic,
                    value,
                    key=event["unit_id"].encode(),
                    headers=headers,
                    partition=partition,
                )
            )
            sent += 1
        for future in pending:
            await future
    finally:
        await producer.stop()
    return sent


async def publish_raw(
    kafka: KafkaConnection,
    topic: str,
    value: bytes,
    key: bytes = b"k",
    headers: list[tuple[str, bytes | None]] | None = None,
) -> None:
    producer = AIOKafkaProducer(**aiokafka_options(kafka), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
