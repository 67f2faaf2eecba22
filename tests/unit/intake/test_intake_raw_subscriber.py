"""The intake.raw.v1 subscriber, in memory (FastStream's TestKafkaBroker, fake publisher)."""

from __future__ import annotations

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from services.intake.bootstrap import build_raw_broker
from services.intake.metrics import IntakeMetrics
from services.intake.service_layer.ports import PublishTimeoutError
from shared.kafka_client import KafkaConnection
from shared.topics import TopicNames
from tests.support.events import complaint_filed, to_wire
from tests.unit.intake.fakes import FakePublisher

pytestmark = pytest.mark.unit

TOPICS = TopicNames.with_prefix("mem.")


def raw_broker(publisher: FakePublisher) -> KafkaBroker:
    return build_raw_broker(
        kafka=KafkaConnection(bootstrap="localhost:9092"),
        topics=TOPICS,
        group="intake-raw-test",
        publisher=publisher,
        metrics=IntakeMetrics(),
        retry_pause_s=0.01,
    )


async def test_valid_and_unparseable_records_are_routed() -> None:
    publisher = FakePublisher()
    event = complaint_filed()

    async with TestKafkaBroker(raw_broker(publisher)) as broker:
        await broker.publish(to_wire(event), topic=TOPICS.intake_raw, key=b"any")
        # FastStream's own decoder would raise on this body (it trusts content-type)
        await broker.publish(
            b"\xff not json", topic=TOPICS.intake_raw, headers={"content-type": "application/json"}
        )

    assert [r.topic for r in publisher.published] == [TOPICS.events, TOPICS.intake_deadletter]
    assert publisher.published[0].key == event.unit_id.encode()
    assert dict(publisher.published[1].headers)["dlq-reason"] == b"not_utf8"


async def test_a_source_topic_carries_only_its_own_source() -> None:
    publisher = FakePublisher()
    own = complaint_filed(source="hotline-95598")
    forged = complaint_filed(source="inspection-app")

    async with TestKafkaBroker(raw_broker(publisher)) as broker:
        await broker.publish(to_wire(own), topic=TOPICS.raw_of_source("hotline-95598"))
        await broker.publish(to_wire(forged), topic=TOPICS.raw_of_source("hotline-95598"))
        # intake.raw.v1 itself is for principals allowed every source
        await broker.publish(to_wire(forged), topic=TOPICS.intake_raw)

    assert [r.topic for r in publisher.published] == [
        TOPICS.events,
        TOPICS.intake_deadletter,
        TOPICS.events,
    ]
    letter = dict(publisher.published[1].headers)
    assert letter["dlq-reason"] == b"source_not_allowed"
    assert b"inspection-app" in (letter["dlq-errors"] or b"")
    assert publisher.published[1].value == to_wire(forged)


async def test_a_publish_failure_is_raised_not_swallowed() -> None:
    publisher = FakePublisher()
    publisher.failure = PublishTimeoutError("no acks")

    async with TestKafkaBroker(raw_broker(publisher)) as broker:
        with pytest.raises(PublishTimeoutError):
            await broker.publish(to_wire(complaint_filed()), topic=TOPICS.intake_raw)
