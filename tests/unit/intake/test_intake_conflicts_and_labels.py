"""A reuse of (source, id) with other content is refused with 409 where intake can
tell (the same request, a recently accepted pair); label values stay bounded; the
process is on /metrics; `occurred_at` is bounded at the door."""

from __future__ import annotations

from datetime import UTC

import orjson
import pytest

from tests.support.events import commendation_recorded, complaint_filed, to_wire
from tests.unit.intake.harness import Intake, auth

pytestmark = pytest.mark.unit


def batch(*events: bytes) -> bytes:
    return b"[" + b",".join(events) + b"]"


async def test_a_pair_reused_with_other_content_in_one_request_is_409_and_nothing_published(
    intake: Intake,
) -> None:
    first = complaint_filed(id="x-1", source="hr-awards")
    other_type = commendation_recorded(id="x-1", source="hr-awards")

    response = await intake.client.post(
        "/v1/events", content=batch(to_wire(first), to_wire(other_type)), headers=auth()
    )

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflicting_reuse"
    assert body["events"] == [
        {"index": 1, "source": "hr-awards", "id": "x-1", "reason": "in_request"}
    ]
    assert intake.publisher.published == []


async def test_a_recently_accepted_pair_sent_with_other_content_is_409_a_retry_is_202(
    intake: Intake,
) -> None:
    first = complaint_filed(id="x-2")
    later = first.model_copy(update={"staff_id": "OTHER-1"})
    accepted = await intake.client.post("/v1/events", content=to_wire(first), headers=auth())
    retried = await intake.client.post("/v1/events", content=to_wire(first), headers=auth())
    refused = await intake.client.post("/v1/events", content=to_wire(later), headers=auth())

    assert (accepted.status_code, retried.status_code) == (202, 202)
    assert refused.status_code == 409
    assert refused.json()["events"][0]["reason"] == "recently_accepted"
    assert len(intake.publisher.published) == 2
    metrics = (await intake.client.get("/metrics")).text
    assert 'intake_rejected_total{channel="http",reason="conflicting_reuse"} 1.0' in metrics


async def test_the_same_instant_in_another_offset_is_the_same_content(intake: Intake) -> None:
    event = complaint_filed(id="x-3")
    wire = orjson.loads(to_wire(event))
    shifted = {**wire, "occurred_at": event.occurred_at.astimezone(UTC).isoformat()}
    assert shifted["occurred_at"] != wire["occurred_at"]

    first = await intake.client.post("/v1/events", content=to_wire(event), headers=auth())
    again = await intake.client.post("/v1/events", content=orjson.dumps(shifted), headers=auth())

    assert (first.status_code, again.status_code) == (202, 202)
    assert len(intake.publisher.published) == 2


async def test_unconfigured_sources_are_labelled_other_and_process_metrics_are_exported(
    intake: Intake,
) -> None:
    named = complaint_filed(source="hotline-95598")
    unnamed = complaint_filed(source="some-new-system")
    for event in (named, unnamed):
        assert (
            await intake.client.post("/v1/events", content=to_wire(event), headers=auth())
        ).status_code == 202

    metrics = (await intake.client.get("/metrics")).text

    assert 'source="hotline-95598"' in metrics
    assert 'source="other"' in metrics
    assert "some-new-system" not in metrics
    assert "python_info" in metrics  # PlatformCollector
    assert "process_start_time_seconds" in metrics  # ProcessCollector (Linux)
    assert "# HELP intake_rejected_total Refused HTTP requests" in metrics


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        ("0001-01-01T00:00:00Z", "before 2000-01-01"),
        ("0001-01-01T00:30:00+01:00", "before 2000-01-01"),
        ("1999-12-31T23:59:59.999999Z", "before 2000-01-01"),
        ("2000-01-01T07:59:59+08:00", "before 2000-01-01"),
        ("2026-01-01T00:00:00+14:01", "beyond ±14:00"),
        ("2026-01-01T00:00:00-14:30", "beyond ±14:00"),
    ],
)
async def test_occurred_at_outside_the_bounds_is_422_naming_the_field(
    intake: Intake, occurred_at: str, message: str
) -> None:
    wire = {**orjson.loads(to_wire(complaint_filed())), "occurred_at": occurred_at}

    response = await intake.client.post("/v1/events", content=orjson.dumps(wire), headers=auth())

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["loc"][-1] == "occurred_at"
    assert message in error["msg"]


ON_THE_BOUNDS = [
    "2000-01-01T00:00:00Z",
    "2000-01-01T08:00:00+08:00",
    "2026-01-01T00:00:00+14:00",
    "2026-01-01T00:00:00-12:00",
]


@pytest.mark.parametrize("occurred_at", ON_THE_BOUNDS)
async def test_occurred_at_on_the_bounds_is_accepted(intake: Intake, occurred_at: str) -> None:
    wire = {**orjson.loads(to_wire(complaint_filed())), "occurred_at": occurred_at}

    response = await intake.client.post("/v1/events", content=orjson.dumps(wire), headers=auth())

    assert response.status_code == 202, response.text
