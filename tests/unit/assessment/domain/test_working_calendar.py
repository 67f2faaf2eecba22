"""Periods in the policy time zone, working days and complaint time limits (限时办结)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.assessment.domain.calendar import (
    complaint_deadline,
    is_working_day,
    last_allowed_day,
    local_date,
    month_of,
    year_of,
)
from services.assessment.domain.complaints import evaluate_complaint
from services.assessment.domain.policy import Policy
from shared.catalogue import Handling
from tests.unit.assessment.domain.builders import at, default_policy, filing, verdict

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_utc_instant_late_on_the_31st_is_next_month_in_shanghai() -> None:
    instant = at("2026-01-31T17:30:00Z")  # 2026-02-01 01:30 in Shanghai

    assert month_of(instant, SHANGHAI) == "2026-02"
    assert month_of(instant, ZoneInfo("UTC")) == "2026-01"
    assert local_date(instant, SHANGHAI) == date(2026, 2, 1)


def test_the_year_is_the_local_year() -> None:
    assert year_of(at("2025-12-31T16:30:00Z"), SHANGHAI) == 2026
    assert year_of(at("2025-12-31T15:59:59Z"), SHANGHAI) == 2025


def test_a_naive_instant_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="naive"):
        month_of(datetime(2026, 1, 1, 12, 0), SHANGHAI)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 2), True),  # an ordinary Monday
        (date(2026, 3, 7), False),  # an ordinary Saturday
        (date(2026, 3, 8), False),  # an ordinary Sunday
        (date(2026, 2, 17), False),  # Spring Festival, a Tuesday
        (date(2026, 2, 14), True),  # make-up working Saturday
        (date(2026, 1, 4), True),  # make-up working Sunday
        (date(2025, 10, 8), False),  # National Day 2025, a Wednesday
        (date(2025, 10, 11), True),  # make-up working Saturday
    ],
)
def test_working_days(day: date, working: bool) -> None:
    assert is_working_day(day, default_policy().calendar) is working


@pytest.mark.parametrize(
    ("filed", "handling", "deadline"),
    [
        # immediate: by the end of the filing day, even on a holiday
        ("2026-03-06T23:59:00+08:00", Handling.IMMEDIATE, "2026-03-07T00:00:00+08:00"),
        ("2026-02-17T10:00:00+08:00", Handling.IMMEDIATE, "2026-02-18T00:00:00+08:00"),
        # filed 16:30 UTC on Thursday is Friday 00:30 in Shanghai
        ("2026-03-05T16:30:00Z", Handling.IMMEDIATE, "2026-03-07T00:00:00+08:00"),
        # approval, Thursday: Fri (1), Mon (2)
        ("2026-03-05T09:00:00+08:00", Handling.APPROVAL, "2026-03-10T00:00:00+08:00"),
        # approval, local Friday: Mon (1), Tue (2)
        ("2026-03-05T16:30:00Z", Handling.APPROVAL, "2026-03-11T00:00:00+08:00"),
        # approval, Friday before Spring Festival: Sat 14th make-up (1), holidays, Tue 24th (2)
        ("2026-02-13T09:00:00+08:00", Handling.APPROVAL, "2026-02-25T00:00:00+08:00"),
        # study, Thursday 12th: 13 (1), 14 make-up (2), 15-23 off, 24-27 (3-6), 28 make-up (7)
        ("2026-02-12T09:00:00+08:00", Handling.STUDY, "2026-03-01T00:00:00+08:00"),
        # study, an ordinary Monday: Tue-Fri (1-4), Mon-Wed (5-7)
        ("2026-03-02T09:00:00+08:00", Handling.STUDY, "2026-03-12T00:00:00+08:00"),
        # study, Friday 2025-09-26: Sun 28 make-up (1), 29-30 (2-3), Oct 1-8 off,
        # 9-10 (4-5), Sat 11 make-up (6), Mon 13 (7)
        ("2025-09-26T09:00:00+08:00", Handling.STUDY, "2025-10-14T00:00:00+08:00"),
    ],
)
def test_complaint_deadlines(filed: str, handling: Handling, deadline: str) -> None:
    result = complaint_deadline(at(filed), handling, default_policy())

    assert result == at(deadline)
    assert result.tzinfo == SHANGHAI


def test_the_last_allowed_day_is_the_day_before_the_exclusive_deadline() -> None:
    last = last_allowed_day(at("2026-02-12T09:00:00+08:00"), Handling.STUDY, default_policy())

    assert last == date(2026, 2, 28)


def test_a_policy_without_the_holidays_counts_only_weekends() -> None:
    plain = Policy(version="plain")

    # Thursday 12th: 13, 16, 17, 18, 19, 20, 23 -> the 7th working day is Monday 23rd.
    deadline = complaint_deadline(at("2026-02-12T09:00:00+08:00"), Handling.STUDY, plain)

    assert deadline == at("2026-02-24T00:00:00+08:00")


@pytest.mark.parametrize(
    ("resolved", "late"),
    [
        ("2026-02-28T23:59:59+08:00", False),  # one second before the deadline
        ("2026-03-01T00:00:00+08:00", True),  # exactly at the deadline
        ("2026-02-28T16:00:00Z", True),  # the same instant, written in UTC
        ("2026-02-28T15:59:59Z", False),
    ],
)
def test_resolved_at_the_deadline_is_late(resolved: str, late: bool) -> None:
    outcome = evaluate_complaint(
        "c1",
        [filing(when="2026-02-12T09:00:00+08:00", handling=Handling.STUDY)],
        [verdict(when=resolved)],
        default_policy(),
    )

    assert outcome.state is not None
    assert outcome.state.resolved_late is late
    assert outcome.state.deadline == at("2026-03-01T00:00:00+08:00")
    # The deadline falls due in February (its last allowed day), though the instant is March.
    assert outcome.state.deadline_month == "2026-02"


def test_lateness_is_judged_on_the_first_verdict() -> None:
    first_in_time = verdict(event_id="v1", when="2026-02-27T10:00:00+08:00")
    appeal_after_deadline = verdict(event_id="v2", when="2026-03-20T10:00:00+08:00")

    outcome = evaluate_complaint(
        "c1",
        [filing(when="2026-02-12T09:00:00+08:00")],
        [appeal_after_deadline, first_in_time],
        default_policy(),
    )

    assert outcome.state is not None
    assert outcome.state.resolved_at == first_in_time.key.occurred_at
    assert outcome.state.resolved_month == "2026-02"
    assert outcome.state.resolved_late is False
    assert outcome.state.outcome_at == appeal_after_deadline.key.occurred_at
    assert outcome.state.outcome_month == "2026-03"


def test_deadlines_follow_the_policy_time_zone() -> None:
    utc_policy = Policy(version="utc", time_zone="UTC")
    filed = at("2026-03-05T20:00:00+08:00")  # Thursday 12:00 UTC

    assert complaint_deadline(filed, Handling.IMMEDIATE, utc_policy) == at(
        "2026-03-06T00:00:00+00:00"
    )
    assert complaint_deadline(filed, Handling.IMMEDIATE, default_policy()) - (
        complaint_deadline(filed, Handling.IMMEDIATE, utc_policy)
    ) == timedelta(hours=-8)
