"""A batch is published whole or not at all (one Kafka transaction per publish).

The broker refuses a record in the middle of a batch (the topic's max.message.bytes is
below it): the records of the other partitions were written, but inside a transaction
that is aborted, so a read_committed reader — every reader of events.v1 — sees none of
them. Once the broker takes the record, the retry writes the batch exactly once.
"""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from services.intake.adapters.kafka_publisher import KafkaPublisher
from services.intake.domain.records import OutboundRecord
from services.intake.service_layer.ports import PublishError
from shared.kafka_client import KafkaConnection
from shared.kafka_topics import TopicSpec, delete_topics, ensure_topics
from tests.support.topics import read_topic, set_topic_config

pytestmark = pytest.mark.integration
SMALL_LIMIT = 10_000  # bytes per record batch the topic takes at first


def batch(topic: str) -> list[OutboundRecord]:
    """Eleven records over three partitions; the sixth is too large for the topic."""
    records = [
        OutboundRecord(topic, f"unit-{n}".encode(), f"event-{n}".encode() * 10, ())
        for n in range(10)
    ]
    big = OutboundRecord(topic, b"unit-big", b"x" * (SMALL_LIMIT * 3), ())
    return [*records[:5], big, *records[5:]]


async def test_a_batch_that_fails_part_way_is_invisible_and_its_retry_lands_once(
    kafka: KafkaConnection, unique: str
) -> None:
    prefix = f"tx-{unique}."
    topic = f"{prefix}events"
    await ensure_topics(
        kafka=kafka,
        specs=(TopicSpec(topic, {"max.message.bytes": str(SMALL_LIMIT)}),),
        partitions=3,
    )
    publisher = KafkaPublisher(
        kafka=kafka,
        timeout_s=15.0,
        transactional_ids=[f"test-intake-{uuid.uuid4().hex}"],
    )
    records = batch(topic)
    await publisher.start()
    try:
        with pytest.raises(PublishError):
            await publisher.publish(records)
        written = await read_topic(kafka, topic, committed=False)
        visible = await read_topic(kafka, topic)

        await set_topic_config(kafka, topic, {"max.message.bytes": "1048588"})
        await publisher.publish(records)  # the client's retry, on the same producer
        after_retry = await read_topic(kafka, topic)
    finally:
        await publisher.stop()
        await delete_topics(kafka=kafka, prefix=prefix)

    assert written, "part of the batch reached the log before the failure"
    assert len(written) < len(records), "the too-large record itself was refused"
    assert visible == [], "a read_committed reader sees no part of the failed batch"
    assert Counter(r.value for r in after_retry) == Counter(r.value for r in records)
