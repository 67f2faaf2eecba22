"""Complaint rules: the standing verdict, its warning, obstruction and the time limit.

A complaint may be resolved more than once (re-examined on appeal). The verdict with the
latest occurred_at stands (ties: greater event id, then greater source); what earlier
verdicts issued and the standing one no longer supports is kept, revoked.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.assessment.domain.calendar import (
    deadline_after,
    last_allowed_day_from,
    local_date,
    month_of,
    month_of_date,
    year_of,
)
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, in_time_order
from services.assessment.domain.ids import ALERT_PREFIX, WARNING_PREFIX, stable_id
from services.assessment.domain.policy import Policy
from services.assessment.domain.results import Alert, ComplaintOutcome, ComplaintState, Warning
from services.assessment.domain.scopes import complaint_scope
from shared.catalogue import ALERT_LEVELS, AlertRule, Category, Outcome, Status


def evaluate_complaint(
    complaint_id: str,
    filings: Sequence[ComplaintFiling],
    verdicts: Sequence[ComplaintVerdict],
    policy: Policy,
) -> ComplaintOutcome:
    ordered_filings = in_time_order(f for f in filings if f.complaint_id == complaint_id)
    if not ordered_filings:
        # A verdict that arrives before its filing waits for it.
        return ComplaintOutcome(state=None, warnings=(), alerts=())
    filing = ordered_filings[0]  # filed more than once: counts once, by its earliest filing
    ordered_verdicts = in_time_order(v for v in verdicts if v.complaint_id == complaint_id)
    return ComplaintOutcome(
        state=complaint_state(filing, ordered_verdicts, policy),
        warnings=_warnings(filing, ordered_verdicts, policy),
        alerts=_obstruction_alerts(filing, ordered_verdicts, policy),
    )


def responsible(verdict: ComplaintVerdict, filing: ComplaintFiling) -> str | None:
    return verdict.staff_id or filing.staff_id


def final_category(verdict: ComplaintVerdict, filing: ComplaintFiling) -> Category:
    return verdict.category or filing.category


def would_warn(verdict: ComplaintVerdict, filing: ComplaintFiling) -> bool:
    return verdict.outcome is Outcome.SUBSTANTIATED and responsible(verdict, filing) is not None


def complaint_state(
    filing: ComplaintFiling, verdicts: Sequence[ComplaintVerdict], policy: Policy
) -> ComplaintState:
    """`verdicts` distinct and in time order."""
    tz = policy.tz
    filed_on = local_date(filing.key.occurred_at, tz)  # its month, and where the time limit starts
    last_day = last_allowed_day_from(filed_on, filing.handling, policy)
    deadline = deadline_after(last_day, tz)
    first = verdicts[0] if verdicts else None
    standing = verdicts[-1] if verdicts else None
    resolved_at = first.key.occurred_at if first else None
    return ComplaintState(
        complaint_id=filing.complaint_id,
        unit_id=filing.unit_id,
        staff_id=filing.staff_id,
        filing_event_id=filing.key.event_id,
        filed_at=filing.key.occurred_at,
        filed_month=month_of_date(filed_on),
        channel=filing.channel,
        category=filing.category,
        handling=filing.handling,
        final_category=final_category(standing, filing) if standing else filing.category,
        deadline=deadline,
        deadline_month=month_of_date(last_day),
        resolved_at=resolved_at,
        resolved_month=month_of(resolved_at, tz) if resolved_at else None,
        resolved_late=resolved_at is not None and resolved_at >= deadline,
        outcome=standing.outcome if standing else None,
        outcome_at=standing.key.occurred_at if standing else None,
        outcome_month=month_of(standing.key.occurred_at, tz) if standing else None,
        verdict_event_id=standing.key.event_id if standing else None,
        # Without a verdict nobody is found responsible yet: the person named when filed.
        responsible_staff_id=responsible(standing, filing) if standing else filing.staff_id,
        obstructed=standing.obstructed if standing else False,
    )


def _warnings(
    filing: ComplaintFiling, verdicts: Sequence[ComplaintVerdict], policy: Policy
) -> tuple[Warning, ...]:
    if not verdicts:
        return ()
    standing = verdicts[-1]
    active_staff = responsible(standing, filing) if would_warn(standing, filing) else None
    warnings = []
    if active_staff is not None:
        warnings.append(_warning(filing, standing, active_staff, policy))
    # Everyone an earlier verdict warned and the standing one does not: revoked.
    latest_by_staff: dict[str, int] = {}
    for index, verdict in enumerate(verdicts[:-1]):
        staff = responsible(verdict, filing)
        if staff is not None and staff != active_staff and would_warn(verdict, filing):
            latest_by_staff[staff] = index
    for staff, index in sorted(latest_by_staff.items()):
        # The verdict right after p's latest warning verdict is the first not to warn p.
        revoking = verdicts[index + 1]
        warnings.append(_warning(filing, verdicts[index], staff, policy, revoked_by=revoking))
    return tuple(warnings)


def _warning(
    filing: ComplaintFiling,
    verdict: ComplaintVerdict,
    staff_id: str,
    policy: Policy,
    *,
    revoked_by: ComplaintVerdict | None = None,
) -> Warning:
    issued_at = verdict.key.occurred_at
    return Warning(
        id=stable_id(WARNING_PREFIX, "complaint", filing.complaint_id, staff_id),
        staff_id=staff_id,
        unit_id=verdict.unit_id,
        rule=policy.complaints.category_rules[final_category(verdict, filing)],
        period=month_of(issued_at, policy.tz),
        issued_at=issued_at,
        evidence=_evidence(filing, verdict, revoked_by),
        status=Status.ACTIVE if revoked_by is None else Status.REVOKED,
        policy_version=policy.version,
        scope=complaint_scope(filing.complaint_id),
        revoked_at=revoked_by.key.occurred_at if revoked_by else None,
    )


def _obstruction_alerts(
    filing: ComplaintFiling, verdicts: Sequence[ComplaintVerdict], policy: Policy
) -> tuple[Alert, ...]:
    """Obstruction follows the standing verdict's flag alone, whatever its outcome."""
    obstructed = [index for index, verdict in enumerate(verdicts) if verdict.obstructed]
    if not obstructed:
        return ()
    latest = obstructed[-1]
    is_standing = latest == len(verdicts) - 1
    revoking = None if is_standing else verdicts[latest + 1]
    return (_obstruction_alert(filing, verdicts[latest], policy, revoked_by=revoking),)


def _obstruction_alert(
    filing: ComplaintFiling,
    verdict: ComplaintVerdict,
    policy: Policy,
    *,
    revoked_by: ComplaintVerdict | None,
) -> Alert:
    issued_at = verdict.key.occurred_at
    return Alert(
        id=stable_id(ALERT_PREFIX, "obstruction", filing.complaint_id),
        unit_id=verdict.unit_id,
        rule=AlertRule.OBSTRUCTION,
        level=ALERT_LEVELS[AlertRule.OBSTRUCTION],
        year=year_of(issued_at, policy.tz),
        issued_at=issued_at,
        evidence=_evidence(filing, verdict, revoked_by),
        status=Status.ACTIVE if revoked_by is None else Status.REVOKED,
        policy_version=policy.version,
        scope=complaint_scope(filing.complaint_id),
        revoked_at=revoked_by.key.occurred_at if revoked_by else None,
    )


def _evidence(
    filing: ComplaintFiling, verdict: ComplaintVerdict, revoked_by: ComplaintVerdict | None
) -> tuple[str, ...]:
    revoking = (revoked_by.key.event_id,) if revoked_by else ()
    return (filing.key.event_id, verdict.key.event_id, *revoking)
