"""Folds new facts into the projections: only the scopes they touch are recomputed.

The rules are pure functions of a scope's facts (see domain/), so recomputing each
touched scope from everything stored for it, and replacing its rows whole, yields
the same projections whatever the arrival order, batching or duplication.
Order of work: complaints, attendance and single findings produce individual
warnings and collective warnings; every unit-year whose inputs changed then gets its
accumulated and leadership alerts recomputed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from services.assessment.domain.calendar import month_of
from services.assessment.domain.complaints import evaluate_complaint
from services.assessment.domain.event_facts import FactBatch
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, Finding
from services.assessment.domain.inspections import (
    evaluate_absence,
    evaluate_attendance,
    evaluate_unit_wide,
)
from services.assessment.domain.policy import Policy
from services.assessment.domain.results import Alert, Warning
from services.assessment.domain.scopes import (
    attendance_scope,
    complaint_scope,
    finding_scope,
    unit_year_scope,
)
from services.assessment.domain.unit_alerts import evaluate_unit_year
from services.assessment.service_layer.store import ProjectionStore, StaffPeriod, UnitYear


@dataclass(frozen=True, slots=True)
class Projected:
    new_events: int
    complaints: int
    staff_months: int
    unit_years: int


async def project(
    store: ProjectionStore, facts: FactBatch, policy: Policy, retracted: FactBatch | None = None
) -> Projected:
    """Add `facts`; `retracted` are facts just removed (a displaced copy of an event):
    the scopes they touched are recomputed too."""
    new = await store.add_facts(facts)
    gone = retracted if retracted is not None else FactBatch()
    if not len(new) and not (gone.filings or gone.verdicts or gone.findings):
        return Projected(0, 0, 0, 0)
    complaint_ids = {f.complaint_id for f in (*new.filings, *gone.filings)} | {
        v.complaint_id for v in (*new.verdicts, *gone.verdicts)
    }
    staff_periods = _attendance_scopes([*new.findings, *gone.findings], policy)

    changed: set[UnitYear] = set()
    changed |= await _refresh_complaints(store, complaint_ids, policy)
    changed |= await _refresh_attendance(store, staff_periods, policy)
    changed |= await _add_finding_results(store, new.findings, policy, gone.findings)
    await _refresh_unit_years(store, changed, policy)
    return Projected(len(new), len(complaint_ids), len(staff_periods), len(changed))


def _attendance_scopes(findings: Iterable[Finding], policy: Policy) -> set[StaffPeriod]:
    return {
        (finding.staff_id, month_of(finding.key.occurred_at, policy.tz))
        for finding in findings
        if finding.staff_id is not None and finding.code in policy.attendance.codes
    }


async def _refresh_complaints(
    store: ProjectionStore, complaint_ids: Collection[str], policy: Policy
) -> set[UnitYear]:
    if not complaint_ids:
        return set()
    filings, verdicts = await store.complaint_facts(complaint_ids)
    filings_of: dict[str, list[ComplaintFiling]] = defaultdict(list)
    verdicts_of: dict[str, list[ComplaintVerdict]] = defaultdict(list)
    for filing in filings:
        filings_of[filing.complaint_id].append(filing)
    for verdict in verdicts:
        verdicts_of[verdict.complaint_id].append(verdict)

    outcomes = [
        evaluate_complaint(cid, filings_of[cid], verdicts_of[cid], policy) for cid in complaint_ids
    ]
    await store.replace_complaints(
        complaint_ids, [outcome.state for outcome in outcomes if outcome.state is not None]
    )
    scopes = [complaint_scope(cid) for cid in complaint_ids]
    warnings = [warning for outcome in outcomes for warning in outcome.warnings]
    alerts = [alert for outcome in outcomes for alert in outcome.alerts]
    return _changed(await store.replace_warnings(scopes, warnings), warnings) | _changed(
        await store.replace_alerts(scopes, alerts), alerts
    )


async def _refresh_attendance(
    store: ProjectionStore, staff_periods: Collection[StaffPeriod], policy: Policy
) -> set[UnitYear]:
    if not staff_periods:
        return set()
    findings_of: dict[StaffPeriod, list[Finding]] = defaultdict(list)
    for finding in await store.attendance_findings(staff_periods, policy.attendance.codes):
        if finding.staff_id is not None:
            findings_of[(finding.staff_id, month_of(finding.key.occurred_at, policy.tz))].append(
                finding
            )
    warnings = [
        warning
        for staff_id, period in staff_periods
        if (
            warning := evaluate_attendance(
                staff_id, period, findings_of[(staff_id, period)], policy
            )
        )
    ]
    scopes = [attendance_scope(staff_id, period) for staff_id, period in staff_periods]
    return _changed(await store.replace_warnings(scopes, warnings), warnings)


async def _add_finding_results(
    store: ProjectionStore,
    findings: Collection[Finding],
    policy: Policy,
    retracted: Collection[Finding] = (),
) -> set[UnitYear]:
    warnings = [w for f in findings if (w := evaluate_absence(f, policy))]
    alerts = [a for f in findings if (a := evaluate_unit_wide(f, policy))]
    if not warnings and not alerts and not retracted:
        return set()
    scopes = [
        finding_scope(f.key.source, f.key.event_id, f.position) for f in (*findings, *retracted)
    ]
    return _changed(await store.replace_warnings(scopes, warnings), warnings) | _changed(
        await store.replace_alerts(scopes, alerts), alerts
    )


async def _refresh_unit_years(
    store: ProjectionStore, unit_years: Collection[UnitYear], policy: Policy
) -> None:
    if not unit_years:
        return
    inputs = await store.unit_year_inputs(unit_years)
    alerts = [
        alert
        for unit_id, year in unit_years
        for alert in evaluate_unit_year(
            unit_id, year, *inputs.get((unit_id, year), ([], [])), policy
        )
    ]
    await store.sync_alerts([unit_year_scope(unit, year) for unit, year in unit_years], alerts)


def _unit_year(item: Warning | Alert) -> UnitYear:
    if isinstance(item, Warning):
        return (item.unit_id, int(item.period[:4]))
    return (item.unit_id, item.year)


def _changed(before: Iterable[Warning | Alert], after: Iterable[Warning | Alert]) -> set[UnitYear]:
    """Unit-years whose inputs differ: a row added, removed or altered in any way."""
    return {_unit_year(item) for item in set(before) ^ set(after)}
