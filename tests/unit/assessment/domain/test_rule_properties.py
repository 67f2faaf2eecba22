"""Properties: results depend on the SET of distinct events only.

Any arrival order and any duplication (the same source + id again) give identical
results; the unit-year timeline also agrees with a brute-force count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.assessment.domain.calendar import year_of
from services.assessment.domain.complaints import evaluate_complaint
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, EventKey, Finding
from services.assessment.domain.inspections import evaluate_attendance
from services.assessment.domain.reference import evaluate_history
from services.assessment.domain.results import Alert, Warning
from services.assessment.domain.unit_alerts import EVENT_COLLECTIVE_RULES, evaluate_unit_year
from shared.catalogue import (
    ALERT_LEVELS,
    AlertRule,
    Category,
    Channel,
    FindingCode,
    Handling,
    Outcome,
    Status,
    WarningRule,
)
from tests.unit.assessment.domain.builders import default_policy

pytestmark = pytest.mark.unit

_T = TypeVar("_T")

SHANGHAI_OFFSET = timezone(timedelta(hours=8))
# Around the 2025/2026 new year in Shanghai, in hours: month and year boundaries and ties.
START = datetime(2025, 12, 31, 12, 0, tzinfo=SHANGHAI_OFFSET)
N_SETTINGS = settings(max_examples=150, deadline=None)

instants = st.builds(
    lambda hours, in_utc: (START + timedelta(hours=hours)).astimezone(
        UTC if in_utc else SHANGHAI_OFFSET
    ),
    st.integers(min_value=0, max_value=40).map(lambda n: n * 3),
    st.booleans(),
)
keys = st.builds(
    EventKey,
    occurred_at=instants,
    event_id=st.sampled_from(["e1", "e2", "e3", "e10"]),
    source=st.sampled_from(["s-a", "s-b"]),
)
units = st.sampled_from(["u1", "u2"])
staff = st.sampled_from([None, "A", "B"])

filings = st.builds(
    ComplaintFiling,
    key=keys,
    complaint_id=st.sampled_from(["c1", "c2"]),
    unit_id=units,
    staff_id=staff,
    channel=st.sampled_from(Channel),
    category=st.sampled_from(Category),
    handling=st.sampled_from(Handling),
)
verdicts = st.builds(
    ComplaintVerdict,
    key=keys,
    complaint_id=st.sampled_from(["c1", "c2"]),
    unit_id=units,
    staff_id=staff,
    outcome=st.sampled_from(Outcome),
    category=st.none() | st.sampled_from(Category),
    obstructed=st.booleans(),
)
findings = st.builds(
    Finding,
    key=keys,
    position=st.integers(min_value=0, max_value=2),
    inspection_id=st.just("i"),
    unit_id=units,
    staff_id=staff,
    code=st.sampled_from(
        [
            FindingCode.LATE_ARRIVAL,
            FindingCode.EARLY_LEAVE,
            FindingCode.ABSENT_FROM_POST,
            FindingCode.SMOKING,
        ]
    ),
    unit_wide=st.booleans(),
)


def reshuffled(data: st.DataObject, items: Sequence[_T]) -> list[_T]:
    """The same items in any order, some of them more than once."""
    if not items:
        return []
    repeats = data.draw(st.lists(st.sampled_from(list(items)), max_size=6))
    return data.draw(st.permutations([*items, *repeats]))


@N_SETTINGS
@given(st.lists(filings, max_size=4), st.lists(verdicts, max_size=6), st.data())
def test_complaint_outcome_ignores_order_and_duplicates(
    some_filings: list[ComplaintFiling], some_verdicts: list[ComplaintVerdict], data: st.DataObject
) -> None:
    policy = default_policy()
    expected = evaluate_complaint("c1", some_filings, some_verdicts, policy)

    again = evaluate_complaint(
        "c1", reshuffled(data, some_filings), reshuffled(data, some_verdicts), policy
    )

    assert again == expected


@N_SETTINGS
@given(st.lists(findings, max_size=14), st.sampled_from(["2025-12", "2026-01"]), st.data())
def test_attendance_ignores_order_and_duplicates(
    some_findings: list[Finding], period: str, data: st.DataObject
) -> None:
    policy = default_policy()
    expected = evaluate_attendance("A", period, some_findings, policy)

    assert evaluate_attendance("A", period, reshuffled(data, some_findings), policy) == expected


@st.composite
def timeline_warnings(draw: st.DrawFn) -> list[Warning]:
    count = draw(st.integers(min_value=0, max_value=12))
    return [draw(_timeline_warning(f"w{n:02d}")) for n in range(count)]


def _timeline_warning(warning_id: str) -> st.SearchStrategy[Warning]:
    return st.builds(
        lambda unit, issued, lasts: Warning(
            id=warning_id,
            staff_id="A",
            unit_id=unit,
            rule=WarningRule.BRIBERY,
            period="",
            issued_at=issued,
            evidence=(),
            status=Status.ACTIVE if lasts is None else Status.REVOKED,
            policy_version="t",
            scope="",
            revoked_at=None if lasts is None else issued + timedelta(hours=lasts),
        ),
        st.sampled_from(["u1", "u1", "u2"]),
        instants,
        st.none() | st.integers(min_value=0, max_value=4).map(lambda n: n * 3),
    )


@st.composite
def timeline_collectives(draw: st.DrawFn) -> list[Alert]:
    count = draw(st.integers(min_value=0, max_value=4))
    rules = [AlertRule.OBSTRUCTION, AlertRule.UNIT_WIDE_VIOLATION, AlertRule.ACCUMULATED_WARNINGS]
    alerts = []
    for n in range(count):
        rule = draw(st.sampled_from(rules))
        issued = draw(instants)
        lasts = draw(st.none() | st.integers(min_value=0, max_value=4).map(lambda h: h * 3))
        alerts.append(
            Alert(
                id=f"c{n}",
                unit_id="u1",
                rule=rule,
                level=ALERT_LEVELS[rule],
                year=draw(st.sampled_from([2025, 2026, 2026])),
                issued_at=issued,
                evidence=(),
                status=Status.ACTIVE if lasts is None else Status.REVOKED,
                policy_version="t",
                scope="",
                revoked_at=None if lasts is None else issued + timedelta(hours=lasts),
            )
        )
    return alerts


def active_at(items: Sequence[Warning | Alert], instant: datetime) -> int:
    return sum(
        1
        for item in items
        if item.issued_at <= instant and (item.revoked_at is None or instant < item.revoked_at)
    )


@N_SETTINGS
@given(timeline_warnings(), timeline_collectives(), st.data())
def test_unit_year_ignores_order_and_duplicates_and_matches_a_brute_force_count(
    warnings: list[Warning], collectives: list[Alert], data: st.DataObject
) -> None:
    policy = default_policy()
    per, needed = 3, 2
    alerts = evaluate_unit_year("u1", 2026, warnings, collectives, policy)

    again = evaluate_unit_year(
        "u1", 2026, reshuffled(data, warnings), reshuffled(data, collectives), policy
    )
    assert again == alerts

    own = [w for w in warnings if w.unit_id == "u1" and year_of(w.issued_at, policy.tz) == 2026]
    own_collectives = [
        c for c in collectives if c.year == 2026 and c.rule in EVENT_COLLECTIVE_RULES
    ]
    starts = [w.issued_at for w in own] + [c.issued_at for c in own_collectives]
    peak = max((active_at(own, t) for t in starts), default=0)
    now = sum(1 for w in own if w.revoked_at is None)
    accumulated = [a for a in alerts if a.rule is AlertRule.ACCUMULATED_WARNINGS]
    # One alert per multiple of 3 ever reached; active while the count is still there.
    assert len(accumulated) == peak // per
    assert sum(a.status is Status.ACTIVE for a in accumulated) == now // per

    collectives_now = now // per + sum(1 for c in own_collectives if c.revoked_at is None)
    collectives_peak = max(
        (active_at(own, t) // per + active_at(own_collectives, t) for t in starts), default=0
    )
    leadership = [a for a in alerts if a.rule is AlertRule.LEADERSHIP_ACCOUNTABILITY]
    assert len(leadership) == (1 if collectives_peak >= needed else 0)
    assert [a.status for a in leadership] == (
        [Status.ACTIVE if collectives_now >= needed else Status.REVOKED] if leadership else []
    )


@N_SETTINGS
@given(
    st.lists(filings, max_size=4),
    st.lists(verdicts, max_size=6),
    st.lists(findings, max_size=12),
    st.data(),
)
def test_history_ignores_order_and_duplicates(
    some_filings: list[ComplaintFiling],
    some_verdicts: list[ComplaintVerdict],
    some_findings: list[Finding],
    data: st.DataObject,
) -> None:
    policy = default_policy()
    expected = evaluate_history(
        filings=some_filings, verdicts=some_verdicts, findings=some_findings, policy=policy
    )

    again = evaluate_history(
        filings=reshuffled(data, some_filings),
        verdicts=reshuffled(data, some_verdicts),
        findings=reshuffled(data, some_findings),
        policy=policy,
    )

    assert again == expected
    # Each unit-year has one active collective warning per 3 active warnings.
    active_warnings = Counter(
        (w.unit_id, year_of(w.issued_at, policy.tz))
        for w in expected.warnings
        if w.status is Status.ACTIVE
    )
    active_accumulated = Counter(
        (a.unit_id, a.year)
        for a in expected.alerts
        if a.rule is AlertRule.ACCUMULATED_WARNINGS and a.status is Status.ACTIVE
    )
    assert active_accumulated == Counter(
        {unit_year: count // 3 for unit_year, count in active_warnings.items() if count >= 3}
    )
