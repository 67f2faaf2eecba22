"""Valid events survive the wire unchanged, both ways intake uses it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings

from services.intake.domain.records import event_records
from shared.events import Event, dump_event, parse_inbound, parse_recorded, stamp
from tests.support.events import complaint_filed, events, latest_allowed, occurred_times

pytestmark = pytest.mark.unit


@settings(max_examples=300)
@given(event=events(), recorded_at=occurred_times())
def test_a_stamped_event_reads_back_equal(event: Event, recorded_at: datetime) -> None:
    stamped = stamp(event, recorded_at=recorded_at)

    assert parse_recorded(dump_event(stamped)) == stamped


@settings(max_examples=300)
@given(event=events())
def test_an_unstamped_event_reads_back_equal(event: Event) -> None:
    assert parse_inbound(dump_event(event), received_at=datetime.now(UTC)) == event


@given(event=events())
def test_generated_events_are_in_2025_2026_and_never_in_the_future(event: Event) -> None:
    assert datetime(2025, 1, 1, tzinfo=UTC) <= event.occurred_at <= latest_allowed()
    assert event.occurred_at.utcoffset() is not None


@settings(max_examples=300)
@given(event=events(), recorded_at=occurred_times())
def test_the_fast_stamped_value_is_exactly_dump_event_of_stamp(
    event: Event, recorded_at: datetime
) -> None:
    [record] = event_records([event], topic="events.v1", recorded_at=recorded_at)

    assert record.value == dump_event(stamp(event, recorded_at=recorded_at))


def test_the_fast_stamped_value_survives_tricky_strings() -> None:
    event = complaint_filed(
        id='x,"type":"y\\',
        staff_id="E:1/2",
        data={"summary": '","type":"complaint.filed" }\\', "complaint_id": ',"type":'},
    )
    recorded_at = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)

    [record] = event_records([event], topic="events.v1", recorded_at=recorded_at)

    assert record.value == dump_event(stamp(event, recorded_at=recorded_at))
    assert parse_recorded(record.value or b"").id == 'x,"type":"y\\'
