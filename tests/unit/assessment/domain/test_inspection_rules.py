"""Inspection rules: monthly attendance (月累计超过3次), absence from post, unit-wide."""

from __future__ import annotations

import pytest

from services.assessment.domain.facts import Finding
from services.assessment.domain.ids import stable_id
from services.assessment.domain.inspections import (
    attendance_count,
    evaluate_absence,
    evaluate_attendance,
    evaluate_unit_wide,
)
from services.assessment.domain.policy import AttendancePolicy, Policy
from shared.catalogue import AlertLevel, AlertRule, FindingCode, Status, WarningRule
from tests.unit.assessment.domain.builders import at, default_policy, finding

pytestmark = pytest.mark.unit


def late(day: int, *, unit: str = "unit-a", staff: str = "E1", hour: int = 9) -> Finding:
    return finding(
        event_id=f"late-{day:02d}",
        when=f"2026-03-{day:02d}T{hour:02d}:05:00+08:00",
        unit=unit,
        staff=staff,
    )


def test_three_findings_in_a_month_do_not_warn() -> None:
    findings = [late(2), late(3), late(4)]

    assert evaluate_attendance("E1", "2026-03", findings, default_policy()) is None
    assert attendance_count("E1", "2026-03", findings, default_policy()) == 3


def test_the_fourth_finding_warns_for_the_unit_of_the_fourth() -> None:
    findings = [late(2), late(3, unit="unit-b"), late(9, unit="unit-c"), late(4), late(10)]

    warning = evaluate_attendance("E1", "2026-03", findings, default_policy())

    assert warning is not None
    assert warning.rule is WarningRule.ATTENDANCE
    assert warning.issued_at == at("2026-03-09T09:05:00+08:00")  # 2, 3, 4, then the 9th
    assert warning.unit_id == "unit-c"
    assert warning.period == "2026-03"
    assert warning.evidence == ("late-02", "late-03", "late-04", "late-09")
    assert warning.status is Status.ACTIVE
    assert warning.scope == "attendance:E1:2026-03"
    assert warning.id == stable_id("W", "attendance", "E1", "2026-03")


def test_early_leaves_count_with_late_arrivals_other_codes_do_not() -> None:
    early = finding(
        event_id="early", when="2026-03-05T17:30:00+08:00", code=FindingCode.EARLY_LEAVE
    )
    smoking = finding(event_id="smoke", when="2026-03-01T10:00:00+08:00", code=FindingCode.SMOKING)
    absent = finding(
        event_id="absent", when="2026-03-01T11:00:00+08:00", code=FindingCode.ABSENT_FROM_POST
    )

    without = evaluate_attendance(
        "E1", "2026-03", [late(2), late(3), early, smoking, absent], default_policy()
    )
    warning = evaluate_attendance(
        "E1", "2026-03", [late(2), late(3), late(4), early], default_policy()
    )

    assert without is None
    assert warning is not None
    assert warning.evidence[-1] == "early"


def test_other_people_and_other_months_do_not_count() -> None:
    february = finding(event_id="feb", when="2026-02-27T09:05:00+08:00")
    someone_else = late(5, staff="E2")
    nobody = finding(event_id="nobody", when="2026-03-06T09:05:00+08:00", staff=None)

    findings = [late(2), late(3), late(4), february, someone_else, nobody]

    assert evaluate_attendance("E1", "2026-03", findings, default_policy()) is None


def test_the_month_is_the_local_month() -> None:
    # 2026-01-31T17:30Z is 2026-02-01 01:30 in Shanghai: it counts for February.
    boundary = finding(event_id="boundary", when="2026-01-31T17:30:00Z")
    february = [
        finding(event_id=f"feb-{d}", when=f"2026-02-0{d}T09:05:00+08:00") for d in (2, 3, 4)
    ]

    warning = evaluate_attendance("E1", "2026-02", [boundary, *february], default_policy())

    assert warning is not None
    assert warning.evidence[0] == "boundary"
    assert evaluate_attendance("E1", "2026-01", [boundary], default_policy()) is None


def test_a_duplicate_finding_counts_once() -> None:
    findings = [late(2), late(3), late(4), late(4), late(4)]

    assert evaluate_attendance("E1", "2026-03", findings, default_policy()) is None


def test_two_findings_of_one_inspection_count_twice_and_are_cited_once() -> None:
    one_event = [
        finding(event_id="round", when="2026-03-02T09:05:00+08:00", position=0),
        finding(event_id="round", when="2026-03-02T09:05:00+08:00", position=3),
    ]
    findings = [*one_event, late(3), late(4)]

    warning = evaluate_attendance("E1", "2026-03", findings, default_policy())

    assert warning is not None
    assert warning.issued_at == at("2026-03-04T09:05:00+08:00")
    assert warning.evidence == ("round", "late-03", "late-04")


def test_ties_break_by_event_id_then_source_then_position() -> None:
    same = "2026-03-05T09:00:00+08:00"
    tied = [
        finding(event_id="x-2", when=same, source="a-src", unit="4th"),
        finding(event_id="x-1", when=same, source="z-src", unit="3rd"),
        finding(event_id="x-1", when=same, source="a-src", position=1, unit="2nd"),
        finding(event_id="x-1", when=same, source="a-src", position=0, unit="1st"),
    ]
    findings = [late(2), *tied]

    # The warning goes to the unit of the (limit + 1)-th finding; vary the limit to read
    # off the order of the tied findings, which all come after late(2).
    units = []
    for limit in (1, 2, 3, 4):
        policy = Policy(version="t", attendance=AttendancePolicy(monthly_limit=limit))
        warning = evaluate_attendance("E1", "2026-03", findings, policy)
        assert warning is not None
        units.append(warning.unit_id)

    assert units == ["1st", "2nd", "3rd", "4th"]


def test_the_limit_comes_from_the_policy() -> None:
    strict = Policy(version="strict", attendance=AttendancePolicy(monthly_limit=1))

    warning = evaluate_attendance("E1", "2026-03", [late(2), late(3)], strict)

    assert warning is not None
    assert warning.evidence == ("late-02", "late-03")
    assert warning.policy_version == "strict"


@pytest.mark.parametrize("code", list(FindingCode))
def test_absence_from_post_for_each_absence_code_with_a_person(code: FindingCode) -> None:
    named = finding(
        event_id="i1",
        when="2026-03-05T10:00:00+08:00",
        code=code,
        position=2,
        source="inspection-app",
        unit="unit-b",
    )
    unnamed = finding(event_id="i2", when="2026-03-05T10:00:00+08:00", code=code, staff=None)

    warning = evaluate_absence(named, default_policy())

    assert evaluate_absence(unnamed, default_policy()) is None
    if code not in {FindingCode.ABSENT_FROM_POST, FindingCode.CHATTING_ON_DUTY}:
        assert warning is None
        return
    assert warning is not None
    assert warning.rule is WarningRule.ABSENCE_FROM_POST
    assert (warning.staff_id, warning.unit_id, warning.period) == ("E1", "unit-b", "2026-03")
    assert warning.evidence == ("i1",)
    assert warning.scope == "finding:inspection-app:i1:2"
    assert warning.id == stable_id("W", "absence", "inspection-app", "i1", 2)


def test_a_unit_wide_finding_is_a_collective_warning() -> None:
    unit_wide = finding(
        event_id="i1",
        when="2025-12-31T16:30:00Z",
        staff=None,
        unit_wide=True,
        code=FindingCode.UNTIDY,
        source="inspection-app",
        position=1,
    )

    alert = evaluate_unit_wide(unit_wide, default_policy())

    assert alert is not None
    assert alert.rule is AlertRule.UNIT_WIDE_VIOLATION
    assert alert.level is AlertLevel.COLLECTIVE_WARNING
    assert alert.year == 2026  # 2026-01-01 00:30 in Shanghai
    assert alert.unit_id == "unit-a"
    assert alert.evidence == ("i1",)
    assert alert.scope == "finding:inspection-app:i1:1"
    assert alert.id == stable_id("A", "unit_wide", "inspection-app", "i1", 1)


def test_a_finding_that_is_not_unit_wide_raises_no_alert() -> None:
    assert evaluate_unit_wide(late(2), default_policy()) is None
