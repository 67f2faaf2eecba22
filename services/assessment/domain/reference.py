"""The whole-history evaluator: every rule applied to a complete set of facts.

Straightforward on purpose: it is the oracle the incremental projection is tested against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from services.assessment.domain.calendar import month_of, year_of
from services.assessment.domain.complaints import evaluate_complaint
from services.assessment.domain.facts import (
    ComplaintFiling,
    ComplaintVerdict,
    Finding,
    distinct,
    findings_in_time_order,
)
from services.assessment.domain.inspections import (
    evaluate_absence,
    evaluate_attendance,
    evaluate_unit_wide,
)
from services.assessment.domain.policy import Policy
from services.assessment.domain.results import Alert, ComplaintState, Warning
from services.assessment.domain.unit_alerts import evaluate_unit_year

_Item = TypeVar("_Item", Warning, Alert)


@dataclass(frozen=True, slots=True)
class History:
    """Everything the rules produce from one history, each kind sorted by id."""

    warnings: tuple[Warning, ...]
    alerts: tuple[Alert, ...]
    complaints: tuple[ComplaintState, ...]


def evaluate_history(
    *,
    filings: Iterable[ComplaintFiling],
    verdicts: Iterable[ComplaintVerdict],
    findings: Iterable[Finding],
    policy: Policy,
) -> History:
    warnings, collectives, complaints = _complaints(list(filings), list(verdicts), policy)
    distinct_findings = findings_in_time_order(findings)
    warnings += _attendance(distinct_findings, policy)
    for finding in distinct_findings:
        if (warning := evaluate_absence(finding, policy)) is not None:
            warnings.append(warning)
        if (alert := evaluate_unit_wide(finding, policy)) is not None:
            collectives.append(alert)
    unit_alerts = _unit_years(warnings, collectives, policy)
    return History(
        warnings=_by_id(warnings),
        alerts=_by_id(collectives + unit_alerts),
        complaints=tuple(sorted(complaints, key=lambda state: state.complaint_id)),
    )


def _complaints(
    filings: list[ComplaintFiling], verdicts: list[ComplaintVerdict], policy: Policy
) -> tuple[list[Warning], list[Alert], list[ComplaintState]]:
    filings_by_id: dict[str, list[ComplaintFiling]] = defaultdict(list)
    verdicts_by_id: dict[str, list[ComplaintVerdict]] = defaultdict(list)
    for filing in filings:
        filings_by_id[filing.complaint_id].append(filing)
    for verdict in verdicts:
        verdicts_by_id[verdict.complaint_id].append(verdict)
    warnings: list[Warning] = []
    alerts: list[Alert] = []
    states: list[ComplaintState] = []
    for complaint_id in sorted(filings_by_id.keys() | verdicts_by_id.keys()):
        outcome = evaluate_complaint(
            complaint_id, filings_by_id[complaint_id], verdicts_by_id[complaint_id], policy
        )
        warnings += outcome.warnings
        alerts += outcome.alerts
        if outcome.state is not None:
            states.append(outcome.state)
    return warnings, alerts, states


def _attendance(findings: list[Finding], policy: Policy) -> list[Warning]:
    by_staff_month: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.staff_id is not None and finding.code in policy.attendance.codes:
            period = month_of(finding.key.occurred_at, policy.tz)
            by_staff_month[(finding.staff_id, period)].append(finding)
    warnings = []
    for (staff_id, period), counted in sorted(by_staff_month.items()):
        if (warning := evaluate_attendance(staff_id, period, counted, policy)) is not None:
            warnings.append(warning)
    return warnings


def _unit_years(warnings: list[Warning], collectives: list[Alert], policy: Policy) -> list[Alert]:
    warnings_by_unit_year: dict[tuple[str, int], list[Warning]] = defaultdict(list)
    collectives_by_unit_year: dict[tuple[str, int], list[Alert]] = defaultdict(list)
    for warning in warnings:
        unit_year = (warning.unit_id, year_of(warning.issued_at, policy.tz))
        warnings_by_unit_year[unit_year].append(warning)
    for alert in collectives:
        collectives_by_unit_year[(alert.unit_id, alert.year)].append(alert)
    alerts: list[Alert] = []
    for unit_id, year in sorted(warnings_by_unit_year.keys() | collectives_by_unit_year.keys()):
        alerts += evaluate_unit_year(
            unit_id,
            year,
            warnings_by_unit_year[(unit_id, year)],
            collectives_by_unit_year[(unit_id, year)],
            policy,
        )
    return alerts


def _by_id(items: list[_Item]) -> tuple[_Item, ...]:
    return tuple(sorted(distinct(items, lambda item: item.id), key=lambda item: item.id))
