"""The demo's sample history: valid, deterministic, true to the seed, and the rule engine
finds in it everything the demo's story promises."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest

from demo.client import DemoError, batches, retry_after, send_events
from demo.report import end_offsets, records_behind
from demo.sample_history import (
    OVERDUE_AS_OF,
    QSB_UNITS,
    TAXI_UNITS,
    WATCHLIST_AS_OF,
    sample_history,
    sample_units,
)
from services.assessment.domain.event_facts import FactBatch, facts_from_events
from services.assessment.domain.inspections import attendance_count
from services.assessment.domain.policy import load_default_policy
from services.assessment.domain.reference import History, evaluate_history
from shared.events import Event, parse_inbound

pytestmark = pytest.mark.unit

TODAY = datetime(2026, 11, 26, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@cache
def parsed() -> tuple[Event, ...]:
    return tuple(
        parse_inbound(orjson.dumps(event), received_at=TODAY) for event in sample_history()
    )


@cache
def facts() -> FactBatch:
    return facts_from_events(parsed())


@cache
def history() -> History:
    batch = facts()
    return evaluate_history(
        filings=batch.filings,
        verdicts=batch.verdicts,
        findings=batch.findings,
        policy=load_default_policy(),
    )


def local_month(event: Event) -> str:
    return event.occurred_at.astimezone(SHANGHAI).strftime("%Y-%m")


def taxi_filings_by_month() -> Counter[str]:
    return Counter(
        local_month(e) for e in parsed() if e.type == "complaint.filed" and e.unit_id in TAXI_UNITS
    )


# ------------------------------------------------------------------ the contract


def test_every_event_is_valid_for_intake() -> None:
    assert len(parsed()) == len(sample_history()) > 1000


def test_source_and_id_identify_each_event() -> None:
    keys = Counter((e["source"], e["id"]) for e in sample_history())
    assert [key for key, n in keys.items() if n > 1] == []


def test_the_history_is_deterministic() -> None:
    assert orjson.dumps(sample_history()) == orjson.dumps(sample_history())


def test_times_are_in_2025_and_2026_mostly_local_some_utc() -> None:
    stamps = [e["occurred_at"] for e in sample_history()]
    assert all(stamp[:4] in {"2025", "2026"} for stamp in stamps)
    local = sum(stamp.endswith("+08:00") for stamp in stamps)
    utc = sum(stamp.endswith("Z") for stamp in stamps)
    assert local + utc == len(stamps)
    assert local > utc > 0


def test_only_the_sample_units_are_used() -> None:
    assert {e.unit_id for e in parsed()} == set(sample_units())


# ---------------------------------------------------------------- the seed's figures


def test_taxi_complaints_41_in_january_and_27_in_february_2026() -> None:
    by_month = taxi_filings_by_month()
    assert (by_month["2026-01"], by_month["2026-02"]) == (41, 27)


def test_taxi_complaints_of_january_and_february_fell_60_percent_year_on_year() -> None:
    by_month = taxi_filings_by_month()
    now = by_month["2026-01"] + by_month["2026-02"]
    before = by_month["2025-01"] + by_month["2025-02"]
    assert (now, before) == (68, 170)
    assert (before - now) / before == pytest.approx(0.60)


def test_months_are_counted_in_asia_shanghai() -> None:
    """A complaint at 00:30 on 1 February in Shanghai is still January in UTC."""
    feb_first = [
        e
        for e in parsed()
        if e.type == "complaint.filed"
        and e.unit_id in TAXI_UNITS
        and local_month(e) == "2026-02"
        and e.occurred_at.astimezone(UTC).month == 1
    ]
    assert feb_first


def test_183_good_deeds_in_january_and_february_2026() -> None:
    deeds = [
        e
        for e in parsed()
        if e.type == "commendation.recorded"
        and e.unit_id in TAXI_UNITS
        and local_month(e) in {"2026-01", "2026-02"}
    ]
    assert len(deeds) == 183
    kinds = Counter(e.data.kind for e in deeds if e.type == "commendation.recorded")
    assert set(kinds) == {"returned_property", "helped_others", "bravery"}


def test_checks_find_the_seed_violations() -> None:
    codes = {f.code for f in facts().findings if f.unit_id in TAXI_UNITS}
    seed = {"passenger_dumping", "unauthorised_carpool", "detour", "smoking"}
    assert seed | {"phone_while_driving"} <= codes
    modes = {i.mode for i in facts().inspections if i.unit_id in TAXI_UNITS}
    assert {"open", "covert"} <= modes


def test_every_handling_is_used() -> None:
    assert {f.handling for f in facts().filings} == {"immediate", "approval", "study"}


# ------------------------------------------------------------ the story's promises


def warnings_of(staff_id: str) -> list[tuple[str, str]]:
    return [(w.rule, w.status) for w in history().warnings if w.staff_id == staff_id]


def test_late_five_times_in_a_month_is_an_attendance_warning() -> None:
    assert warnings_of("E1007") == [("attendance", "active")]


def test_exactly_three_late_arrivals_put_a_person_on_the_watchlist_not_warned() -> None:
    month = WATCHLIST_AS_OF[:7]
    assert attendance_count("E1010", month, facts().findings, load_default_policy()) == 3
    assert warnings_of("E1010") == []


def test_the_overturned_verdict_revokes_the_warning_and_the_collective_warning() -> None:
    assert warnings_of("E1013") == [("bribery", "revoked")]
    metrology = [(a.rule, a.status) for a in history().alerts if a.unit_id == "qsb/metrology"]
    assert metrology == [("accumulated_warnings", "revoked")]


def test_the_alerts_are_exactly_the_story_s() -> None:
    alerts = Counter((a.unit_id, a.rule.value, a.status.value, a.year) for a in history().alerts)
    assert alerts == Counter(
        {
            ("qsb/licensing", "accumulated_warnings", "active", 2026): 2,
            ("qsb/licensing", "leadership_accountability", "active", 2026): 1,
            ("qsb/metrology", "accumulated_warnings", "revoked", 2026): 1,
            ("qsb/inspection", "obstruction", "active", 2026): 1,
            ("qsb/service-window", "unit_wide_violation", "active", 2026): 1,
        }
    )


def test_the_licensing_office_has_six_active_warnings_in_2026() -> None:
    licensing = [
        w for w in history().warnings if w.unit_id == "qsb/licensing" and w.status == "active"
    ]
    assert len(licensing) == 6
    assert {w.rule for w in licensing} >= {"attendance", "bribery", "absence_from_post"}


def test_one_complaint_is_overdue_and_one_resolved_late() -> None:
    as_of = datetime.fromisoformat(OVERDUE_AS_OF)
    states = history().complaints
    late = {c.complaint_id for c in states if c.resolved_late}
    never = {c.complaint_id for c in states if c.resolved_at is None}
    overdue_then = {
        c.complaint_id
        for c in states
        if c.deadline <= as_of and (c.resolved_at is None or c.resolved_at > as_of)
    }
    assert late == {"QSB-2026-006"}
    assert never == {"QSB-2026-013"}
    assert overdue_then == late | never


def test_the_bureau_s_units_are_all_in_the_story() -> None:
    assert {w.unit_id for w in history().warnings} >= set(QSB_UNITS)


# ---------------------------------------------------------- the demo's pure helpers


def test_batches_respect_the_count_and_size_limits() -> None:
    events = sample_history()
    bodies = list(batches(events, max_count=1000))
    assert [len(orjson.loads(body)) for body in bodies] == [1000, len(events) - 1000]
    small = list(batches(events[:50], max_count=1000, max_bytes=5000))
    assert all(len(body) <= 5000 for body in small)
    assert sum(len(orjson.loads(body)) for body in small) == 50


def test_retry_after_reads_seconds_and_falls_back() -> None:
    assert retry_after("3") == 3.0
    assert retry_after(None) == 1.0
    assert retry_after("soon") == 1.0
    assert retry_after("600") == 30.0


def test_waiting_is_done_when_every_partition_reached_its_end_offset() -> None:
    status: dict[str, Any] = {
        "partitions": [
            {"partition": 0, "position": 9, "end_offset": 10},
            {"partition": 1, "position": None, "end_offset": 4},
        ]
    }
    targets = end_offsets(status)
    assert targets == {0: 10, 1: 4}
    assert records_behind(status, targets) == 4
    status["partitions"][1]["position"] = 3
    assert records_behind(status, targets) == 0
    assert (
        end_offsets({"partitions": [{"partition": 0, "position": 1, "end_offset": None}]}) is None
    )


def test_sending_retries_a_503_after_its_retry_after() -> None:
    answers = iter([503, 202])
    waits: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        code = next(answers)
        if code == 503:
            return httpx.Response(503, headers={"Retry-After": "2"})
        sent = orjson.loads(request.content)
        return httpx.Response(202, json={"accepted": len(sent), "ids": [e["id"] for e in sent]})

    with httpx.Client(base_url="http://intake", transport=httpx.MockTransport(handler)) as client:
        accepted = send_events(client, sample_history()[:10], sleep=waits.append)
    assert (accepted, waits) == (10, [2.0])


def test_a_rejected_batch_names_the_event_and_the_field() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        error = {"index": 3, "loc": ["occurred_at"], "msg": "in the future"}
        return httpx.Response(422, json={"errors": [error]})

    client = httpx.Client(base_url="http://intake", transport=httpx.MockTransport(handler))
    with client, pytest.raises(DemoError, match=r"event 3: occurred_at: in the future"):
        send_events(client, sample_history()[:10])
