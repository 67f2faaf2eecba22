"""POST /v1/events against the real producer and broker: what lands on events.v1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from shared.events import SCHEMA_VERSION, Event, parse_recorded, stamp
from shared.kafka_client import KafkaConnection
from tests.integration.intake.harness import auth, running_intake, settings_for
from tests.support.events import (
    commendation_recorded,
    complaint_filed,
    inspection_recorded,
    to_json,
    to_wire,
)
from tests.support.topics import read_topic

pytestmark = pytest.mark.integration


def as_batch(*events: Event) -> bytes:
    return b"[" + b",".join(to_wire(e) for e in events) + b"]"


async def test_accepted_events_land_on_events_v1_with_key_value_and_headers(
    kafka: KafkaConnection, unique: str
) -> None:
    settings = settings_for(kafka, unique)
    events: list[Event] = [
        complaint_filed(unit_id="qsb/licensing"),
        inspection_recorded(unit_id="taxi/fleet-3"),
        commendation_recorded(unit_id="taxi/fleet-3"),
    ]
    async with running_intake(settings, raw_intake=False) as intake:
        before = datetime.now(UTC)
        response = await intake.client.post("/v1/events", content=as_batch(*events), headers=auth())
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": 3, "ids": [e.id for e in events]}

        records = await read_topic(kafka, settings.topics.events)

    assert len(records) == 3
    by_id = {parse_recorded(r.body).id: r for r in records}
    for event in events:
        record = by_id[event.id]
        stored = parse_recorded(record.body)
        assert stored.recorded_at is not None
        assert before - timedelta(seconds=1) <= stored.recorded_at <= datetime.now(UTC)
        assert stored == stamp(event, recorded_at=stored.recorded_at)
        assert record.key == event.unit_id.encode()
        assert record.headers == {
            "event-type": event.type.encode(),
            "event-source": event.source.encode(),
            "event-id": event.id.encode(),
            "schema-version": str(SCHEMA_VERSION).encode(),
            "content-type": b"application/json",
        }
    # same unit, same partition: the assessment reads a unit's events in order
    fleet = [r.partition for r in records if r.key == b"taxi/fleet-3"]
    assert len(set(fleet)) == 1


async def test_a_retry_of_the_same_event_is_accepted_again(
    kafka: KafkaConnection, unique: str
) -> None:
    settings = settings_for(kafka, unique)
    event = complaint_filed()
    async with running_intake(settings, raw_intake=False) as intake:
        first = await intake.client.post("/v1/events", content=to_wire(event), headers=auth())
        retry = await intake.client.post("/v1/events", content=to_wire(event), headers=auth())

        records = await read_topic(kafka, settings.topics.events)

    assert (first.status_code, retry.status_code) == (202, 202)
    assert retry.json() == {"accepted": 1, "ids": [event.id]}
    # Both copies are on the log; (source, id) makes the second one change nothing downstream.
    assert [parse_recorded(r.body).key for r in records] == [event.key, event.key]


async def test_a_rejected_batch_publishes_nothing(kafka: KafkaConnection, unique: str) -> None:
    settings = settings_for(kafka, unique)
    invalid = {**to_json(complaint_filed()), "occurred_at": "2026-01-05T09:30:00"}
    rejected_batch = orjson.dumps([to_json(complaint_filed()), to_json(complaint_filed()), invalid])
    marker = complaint_filed()
    async with running_intake(settings, raw_intake=False) as intake:
        rejected = await intake.client.post("/v1/events", content=rejected_batch, headers=auth())
        # A later, acknowledged event marks the point by which anything earlier is visible.
        accepted = await intake.client.post("/v1/events", content=to_wire(marker), headers=auth())

        records = await read_topic(kafka, settings.topics.events)

    assert rejected.status_code == 422
    assert rejected.json() == {
        "errors": [{"index": 2, "loc": ["occurred_at"], "msg": "Input should have timezone info"}]
    }
    assert accepted.status_code == 202
    assert [parse_recorded(r.body).id for r in records] == [marker.id]


async def test_ready_when_kafka_answers(kafka: KafkaConnection, unique: str) -> None:
    settings = settings_for(kafka, unique)
    async with running_intake(settings, raw_intake=False) as intake:
        ready = await intake.client.get("/readyz")
        metrics = await intake.client.get("/metrics")

    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}
    assert metrics.status_code == 200
