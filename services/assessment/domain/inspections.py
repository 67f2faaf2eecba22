"""Inspection rules: monthly attendance, absence from post, unit-wide violations."""

from __future__ import annotations

from collections.abc import Sequence

from services.assessment.domain.calendar import month_of, year_of
from services.assessment.domain.facts import Finding, findings_in_time_order
from services.assessment.domain.ids import ALERT_PREFIX, WARNING_PREFIX, stable_id
from services.assessment.domain.policy import Policy
from services.assessment.domain.results import Alert, Warning
from services.assessment.domain.scopes import attendance_scope, finding_scope
from shared.catalogue import ALERT_LEVELS, AlertRule, Status, WarningRule


def attendance_findings(
    staff_id: str, period: str, findings: Sequence[Finding], policy: Policy
) -> list[Finding]:
    """The staff member's distinct attendance findings of the month, in time order.

    Counted per person across units and inspection modes; a finding's person is its own
    staff_id only.
    """
    return findings_in_time_order(
        finding
        for finding in findings
        if finding.code in policy.attendance.codes
        and finding.staff_id == staff_id
        and month_of(finding.key.occurred_at, policy.tz) == period
    )


def attendance_count(
    staff_id: str, period: str, findings: Sequence[Finding], policy: Policy
) -> int:
    return len(attendance_findings(staff_id, period, findings, policy))


def evaluate_attendance(
    staff_id: str, period: str, findings: Sequence[Finding], policy: Policy
) -> Warning | None:
    counted = attendance_findings(staff_id, period, findings, policy)
    limit = policy.attendance.monthly_limit
    if len(counted) <= limit:
        return None
    # Issued at the first finding over the limit, for the unit the person was in then.
    trigger = counted[limit]
    evidence = dict.fromkeys(finding.key.event_id for finding in counted[: limit + 1])
    return Warning(
        id=stable_id(WARNING_PREFIX, "attendance", staff_id, period),
        staff_id=staff_id,
        unit_id=trigger.unit_id,
        rule=WarningRule.ATTENDANCE,
        period=period,
        issued_at=trigger.key.occurred_at,
        evidence=tuple(evidence),
        status=Status.ACTIVE,
        policy_version=policy.version,
        scope=attendance_scope(staff_id, period),
    )


def evaluate_absence(finding: Finding, policy: Policy) -> Warning | None:
    if finding.code not in policy.absence.codes or finding.staff_id is None:
        return None
    key = finding.key
    return Warning(
        id=stable_id(WARNING_PREFIX, "absence", key.source, key.event_id, finding.position),
        staff_id=finding.staff_id,
        unit_id=finding.unit_id,
        rule=WarningRule.ABSENCE_FROM_POST,
        period=month_of(key.occurred_at, policy.tz),
        issued_at=key.occurred_at,
        evidence=(key.event_id,),
        status=Status.ACTIVE,
        policy_version=policy.version,
        scope=_finding_scope(finding),
    )


def evaluate_unit_wide(finding: Finding, policy: Policy) -> Alert | None:
    if not finding.unit_wide:
        return None
    key = finding.key
    return Alert(
        id=stable_id(ALERT_PREFIX, "unit_wide", key.source, key.event_id, finding.position),
        unit_id=finding.unit_id,
        rule=AlertRule.UNIT_WIDE_VIOLATION,
        level=ALERT_LEVELS[AlertRule.UNIT_WIDE_VIOLATION],
        year=year_of(key.occurred_at, policy.tz),
        issued_at=key.occurred_at,
        evidence=(key.event_id,),
        status=Status.ACTIVE,
        policy_version=policy.version,
        scope=_finding_scope(finding),
    )


def _finding_scope(finding: Finding) -> str:
    return finding_scope(finding.key.source, finding.key.event_id, finding.position)
