"""POST /v1/events accepts valid events only once they are published; the other routes."""

from __future__ import annotations

import orjson
import pytest

from services.intake.service_layer.ports import PublishError, PublishTimeoutError
from shared.events import SCHEMA_VERSION, Event, dump_event, parse_recorded, stamp
from tests.support.events import (
    commendation_recorded,
    complaint_filed,
    complaint_resolved,
    inspection_recorded,
    to_wire,
)
from tests.unit.intake.harness import HOTLINE_TOKEN, Intake, auth

pytestmark = pytest.mark.unit


async def test_one_event_is_published_keyed_by_unit_with_headers(intake: Intake) -> None:
    event = complaint_filed(unit_id="qsb/licensing")

    response = await intake.client.post("/v1/events", content=to_wire(event), headers=auth())

    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "ids": [event.id]}
    [record] = intake.publisher.published
    assert record.topic == "events.v1"
    assert record.key == b"qsb/licensing"
    stored = parse_recorded(record.value or b"")
    assert stored.recorded_at is not None
    assert stored == stamp(event, recorded_at=stored.recorded_at)
    assert record.value == dump_event(stored)
    assert dict(record.headers) == {
        "event-type": b"complaint.filed",
        "event-source": b"hotline-95598",
        "event-id": event.id.encode(),
        "schema-version": str(SCHEMA_VERSION).encode(),
        "content-type": b"application/json",
    }


async def test_a_batch_is_published_whole_and_in_order(intake: Intake) -> None:
    events: list[Event] = [
        complaint_filed(),
        complaint_resolved(),
        inspection_recorded(),
        commendation_recorded(),
    ]
    body = b"[" + b",".join(to_wire(e) for e in events) + b"]"

    response = await intake.client.post("/v1/events", content=body, headers=auth())

    assert response.status_code == 202
    assert response.json() == {"accepted": 4, "ids": [e.id for e in events]}
    assert intake.publisher.calls == 1
    assert [r.key for r in intake.publisher.published] == [e.unit_id.encode() for e in events]


async def test_a_restricted_token_sends_for_its_own_source(intake: Intake) -> None:
    event = complaint_filed(source="hotline-95598")

    response = await intake.client.post(
        "/v1/events", content=to_wire(event), headers=auth(HOTLINE_TOKEN)
    )

    assert response.status_code == 202


async def test_a_retry_of_the_same_event_is_accepted_again(intake: Intake) -> None:
    wire = to_wire(complaint_filed())

    first = await intake.client.post("/v1/events", content=wire, headers=auth())
    again = await intake.client.post("/v1/events", content=wire, headers=auth())

    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json() == again.json()


INTERNAL = "KafkaConnectionError: Unable to bootstrap from [('10.0.0.7', 9092, <AF_INET>)]"


async def test_503_with_retry_after_when_kafka_does_not_acknowledge(
    intake: Intake, caplog: pytest.LogCaptureFixture
) -> None:
    intake.publisher.failure = PublishTimeoutError(INTERNAL)

    response = await intake.client.post(
        "/v1/events", content=to_wire(complaint_filed()), headers=auth()
    )

    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"] == "kafka_unavailable"
    # The client's error text is for the operators: in the log, never in the answer.
    assert "Kafka" in response.json()["detail"]
    assert "10.0.0.7" not in response.text
    assert "bootstrap" not in response.text
    assert INTERNAL in caplog.text


async def test_413_when_one_event_is_too_large_for_kafka(intake: Intake) -> None:
    intake.publisher.max_value_bytes = 800
    small = complaint_filed(data={"summary": "短"})
    large = complaint_filed(data={"summary": "长" * 400})
    body = b"[" + to_wire(small) + b"," + to_wire(large) + b"]"

    response = await intake.client.post("/v1/events", content=body, headers=auth())

    assert response.status_code == 413
    assert response.json()["error"] == "event_too_large"
    assert response.json()["index"] == 1
    assert intake.publisher.published == []


async def test_accepted_events_are_counted(intake: Intake) -> None:
    body = b"[" + to_wire(complaint_filed()) + b"," + to_wire(complaint_filed()) + b"]"
    await intake.client.post("/v1/events", content=body, headers=auth())

    metrics = (await intake.client.get("/metrics")).text

    assert (
        'intake_events_accepted_total{channel="http",source="hotline-95598",'
        'type="complaint.filed"} 2.0'
    ) in metrics
    assert 'intake_batch_size_count{channel="http"} 1.0' in metrics
    assert 'intake_publish_seconds_count{channel="http"} 1.0' in metrics


async def test_healthz(intake: Intake) -> None:
    response = await intake.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_follows_kafka(intake: Intake) -> None:
    assert (await intake.client.get("/readyz")).status_code == 200

    intake.publisher.ready_failure = PublishError(INTERNAL)
    response = await intake.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["error"] == "kafka_unavailable"
    assert response.headers["retry-after"] == "2"
    assert "10.0.0.7" not in response.text
    assert "bootstrap" not in response.text


async def test_openapi_documents_the_events_and_examples(intake: Intake) -> None:
    document = (await intake.client.get("/openapi.json")).json()

    operation = document["paths"]["/v1/events"]["post"]
    content = operation["requestBody"]["content"]["application/json"]
    assert set(content["examples"]) >= {"complaint.filed", "inspection.recorded", "batch"}
    assert {"202", "400", "401", "403", "409", "413", "415", "422", "429", "503"} <= set(
        operation["responses"]
    )
    schemas = document["components"]["schemas"]
    assert {"Event", "ComplaintFiled", "InspectionRecorded", "FindingData"} <= set(schemas)
    assert "recorded_at" not in schemas["ComplaintFiled"]["properties"]
    assert (await intake.client.get("/docs")).status_code == 200


async def test_examples_in_the_docs_are_accepted(intake: Intake) -> None:
    document = (await intake.client.get("/openapi.json")).json()
    examples = document["paths"]["/v1/events"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]

    for name, example in examples.items():
        response = await intake.client.post(
            "/v1/events", content=orjson.dumps(example["value"]), headers=auth()
        )
        assert response.status_code == 202, (name, response.text)
