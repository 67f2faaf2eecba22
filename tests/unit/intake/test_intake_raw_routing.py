"""The Kafka-native intake's decisions: forward valid records, dead-letter the rest."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from services.intake.domain.records import MAX_DLQ_ERRORS, RawRecord, event_record
from services.intake.metrics import IntakeMetrics
from services.intake.service_layer.handlers import route_raw
from services.intake.service_layer.ports import PublishTimeoutError
from shared.topics import TopicNames
from tests.support.events import complaint_filed, inspection_recorded, to_json, to_wire
from tests.unit.intake.fakes import FakePublisher

pytestmark = pytest.mark.unit

TOPICS = TopicNames.with_prefix("t.")
NOW = datetime.now(UTC)


def raw(value: bytes | None, *, offset: int = 7, key: bytes | None = b"k") -> RawRecord:
    return RawRecord(
        topic=TOPICS.intake_raw,
        partition=2,
        offset=offset,
        key=key,
        value=value,
        headers=(("trace-id", b"abc"), ("odd", None)),
    )


async def route(*records: RawRecord, publisher: FakePublisher | None = None) -> FakePublisher:
    publisher = publisher or FakePublisher()
    await route_raw(
        list(records), publisher=publisher, topics=TOPICS, received_at=NOW, metrics=IntakeMetrics()
    )
    return publisher


async def test_a_valid_record_is_forwarded_like_an_http_event() -> None:
    event = complaint_filed()

    publisher = await route(raw(to_wire(event)))

    assert publisher.published == [event_record(event, topic=TOPICS.events, recorded_at=NOW)]


@pytest.mark.parametrize(
    ("value", "reason", "message"),
    [
        (None, "empty", "the record has no value"),
        (b"", "empty", "the record has no value"),
        (b"\xff\xfe\x00garbage", "not_utf8", "not valid JSON (UTF-8)"),
        (b"{'id': 1}", "not_json", "not valid JSON (UTF-8)"),
        (b"[1, 2]", "not_an_object", "one event as a JSON object"),
        (b'"text"', "not_an_object", "one event as a JSON object"),
    ],
)
async def test_unusable_bytes_are_dead_lettered(
    value: bytes | None, reason: str, message: str
) -> None:
    publisher = await route(raw(value))

    [letter] = publisher.published
    headers = dict(letter.headers)
    assert letter.topic == TOPICS.intake_deadletter
    assert (letter.key, letter.value) == (b"k", value)
    assert headers["dlq-reason"] == reason.encode()
    assert message in orjson.loads(headers["dlq-errors"] or b"")[0]["msg"]
    assert headers["dlq-origin"] == f"{TOPICS.intake_raw}/2/7".encode()
    assert (headers["trace-id"], headers["odd"]) == (b"abc", None)


async def test_a_record_without_key_or_value_still_becomes_a_dead_letter() -> None:
    publisher = await route(raw(None, key=None))

    [letter] = publisher.published
    assert (letter.key, letter.value) == (None, b"")


async def test_an_invalid_event_is_dead_lettered_with_its_errors() -> None:
    event = to_json(inspection_recorded())
    event["data"]["findings"][0]["code"] = "sleeping"
    event["colour"] = "red"
    value = orjson.dumps(event)

    publisher = await route(raw(value))

    [letter] = publisher.published
    headers = dict(letter.headers)
    assert letter.value == value
    assert headers["dlq-reason"] == b"invalid_event"
    errors = orjson.loads(headers["dlq-errors"] or b"")
    assert {tuple(e["loc"]) for e in errors} == {("colour",), ("data", "findings", 0, "code")}


async def test_dead_letter_errors_are_capped() -> None:
    event = to_json(inspection_recorded())
    event["data"]["findings"] = [{"code": "bogus"}] * 50

    publisher = await route(raw(orjson.dumps(event)))

    errors = orjson.loads(dict(publisher.published[0].headers)["dlq-errors"] or b"")
    assert len(errors) == MAX_DLQ_ERRORS + 1
    assert errors[-1]["msg"] == "... and 30 more"


async def test_a_mixed_batch_is_published_in_one_go_in_order() -> None:
    good = complaint_filed()

    publisher = await route(raw(b"nope", offset=1), raw(to_wire(good), offset=2))

    assert publisher.calls == 1
    assert [r.topic for r in publisher.published] == [TOPICS.intake_deadletter, TOPICS.events]


async def test_an_event_too_large_for_kafka_is_dead_lettered_as_too_large() -> None:
    small, large = complaint_filed(), complaint_filed(data={"summary": "长" * 400})
    # the raw value fits; stamped with recorded_at, the event does not
    publisher = FakePublisher(max_value_bytes=len(to_wire(large)) + 10)

    await route(raw(to_wire(small), offset=1), raw(to_wire(large), offset=2), publisher=publisher)

    forwarded, letter = publisher.published
    assert forwarded.topic == TOPICS.events
    assert letter.topic == TOPICS.intake_deadletter
    assert dict(letter.headers)["dlq-reason"] == b"too_large"
    assert letter.value == to_wire(large)


async def test_a_publish_failure_propagates_so_the_offset_is_not_committed() -> None:
    publisher = FakePublisher()
    publisher.failure = PublishTimeoutError("no acks")

    with pytest.raises(PublishTimeoutError):
        await route(raw(to_wire(complaint_filed())), publisher=publisher)
