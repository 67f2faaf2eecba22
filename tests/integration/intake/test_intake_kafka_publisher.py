"""The Kafka adapter on the real broker: acks, readiness, and recovery of a dead producer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.intake.adapters.kafka_publisher import KafkaPublisher
from services.intake.domain.records import event_records
from services.intake.service_layer.ports import PublishError
from shared.events import parse_recorded
from shared.kafka_client import KafkaConnection
from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from shared.topics import TopicNames
from tests.support.events import complaint_filed
from tests.support.topics import read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


async def test_a_producer_whose_sender_died_is_replaced(
    kafka: KafkaConnection, unique: str
) -> None:
    topics = TopicNames.with_prefix(f"it-{unique}.")
    await ensure_topics(kafka=kafka, specs=platform_topics(topics), partitions=1)
    publisher = KafkaPublisher(kafka=kafka, timeout_s=10.0, readiness_topic=topics.events)
    event = complaint_filed()
    await publisher.start()
    try:
        first: Any = publisher._single._producer
        # What a fatal error in aiokafka leaves behind: a producer whose sender has stopped.
        first._sender.sender_task.cancel()

        async def sender_done() -> bool:
            done: bool = first._sender.sender_task.done()
            return done

        await wait_for(sender_done, what="the sender to stop")

        await publisher.check_ready()
        await publisher.publish(
            event_records([event], topic=topics.events, recorded_at=datetime.now(UTC))
        )
        replaced = publisher._single._producer
        records = await read_topic(kafka, topics.events)
    finally:
        await publisher.stop()
        await delete_topics(kafka=kafka, prefix=f"it-{unique}.")

    assert replaced is not first
    assert [parse_recorded(r.body).id for r in records] == [event.id]


async def test_nothing_is_published_after_stop(kafka: KafkaConnection) -> None:
    publisher = KafkaPublisher(kafka=kafka, timeout_s=5.0)
    await publisher.start()
    await publisher.stop()

    with pytest.raises(PublishError, match="shutting down"):
        await publisher.publish([])
