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
from dataclasses import dataclass, field

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
from services.assessment.domain.results import Alert, ComplaintState, Warning
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


@dataclass(slots=True)
class _Replacement:
    """What the rules say some scopes now hold (computed before anything is written)."""

    scopes: list[str] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    complaint_ids: Collection[str] = ()
    complaints: list[ComplaintState] = field(default_factory=list)
    with_alerts: bool = True  # the scopes may hold alerts (attendance scopes never do)
    # The scopes that may hold rows already (None: all); a new event's findings' do not.
    stored: list[str] | None = None

    def stored_scopes(self) -> list[str]:
        return self.scopes if self.stored is None else self.stored

    def units(self) -> set[str]:
        return (
            {w.unit_id for w in self.warnings}
            | {a.unit_id for a in self.alerts}
            | {c.unit_id for c in self.complaints}
        )


async def project(
    store: ProjectionStore, facts: FactBatch, policy: Policy, retracted: FactBatch | None = None
) -> Projected:
    """Add `facts`; `retracted` are facts just removed (a displaced copy of an event):
    the scopes they touched are recomputed too.

    Concurrent folds (several instances) meet only through the store's locks, taken
    in one order: the complaint and staff-month scopes before their facts are read,
    then every unit whose rows the transaction will write (the units of the rows it
    replaces and of those it writes) before the first write. A unit's lock covers its
    unit-years, its ranking counts and the order of its change-feed records."""
    new = await store.add_facts(facts)
    gone = retracted if retracted is not None else FactBatch()
    if not len(new) and not (gone.filings or gone.verdicts or gone.findings):
        return Projected(0, 0, 0, 0)
    complaint_ids = sorted(
        {f.complaint_id for f in (*new.filings, *gone.filings)}
        | {v.complaint_id for v in (*new.verdicts, *gone.verdicts)}
    )
    staff_periods = sorted(_attendance_scopes([*new.findings, *gone.findings], policy))
    await store.lock_scopes(
        [complaint_scope(cid) for cid in complaint_ids]
        + [attendance_scope(staff_id, period) for staff_id, period in staff_periods]
    )

    replacements = [
        await _complaints(store, complaint_ids, policy),
        await _attendance(store, staff_periods, policy),
        _finding_results(new.findings, policy, gone.findings),
    ]
    await store.lock_units(
        set().union(*(r.units() for r in replacements)),
        complaint_ids=complaint_ids,
        scopes=[scope for r in replacements for scope in r.stored_scopes()],
    )
    changed = await _write(store, replacements)
    await _refresh_unit_years(store, changed, policy)
    return Projected(len(new), len(complaint_ids), len(staff_periods), len(changed))


def _attendance_scopes(findings: Iterable[Finding], policy: Policy) -> set[StaffPeriod]:
    return {
        (finding.staff_id, month_of(finding.key.occurred_at, policy.tz))
        for finding in findings
        if finding.staff_id is not None and finding.code in policy.attendance.codes
    }


async def _complaints(
    store: ProjectionStore, complaint_ids: Collection[str], policy: Policy
) -> _Replacement:
    if not complaint_ids:
        return _Replacement()
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
    return _Replacement(
        scopes=[complaint_scope(cid) for cid in complaint_ids],
        warnings=[warning for outcome in outcomes for warning in outcome.warnings],
        alerts=[alert for outcome in outcomes for alert in outcome.alerts],
        complaint_ids=complaint_ids,
        complaints=[outcome.state for outcome in outcomes if outcome.state is not None],
    )


async def _attendance(
    store: ProjectionStore, staff_periods: Collection[StaffPeriod], policy: Policy
) -> _Replacement:
    if not staff_periods:
        return _Replacement()
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
    return _Replacement(scopes=scopes, warnings=warnings, with_alerts=False)


def _finding_results(
    findings: Collection[Finding], policy: Policy, retracted: Collection[Finding] = ()
) -> _Replacement:
    warnings = [w for f in findings if (w := evaluate_absence(f, policy))]
    alerts = [a for f in findings if (a := evaluate_unit_wide(f, policy))]
    if not warnings and not alerts and not retracted:
        return _Replacement()
    gone = [finding_scope(f.key.source, f.key.event_id, f.position) for f in retracted]
    scopes = [finding_scope(f.key.source, f.key.event_id, f.position) for f in findings] + gone
    return _Replacement(scopes=scopes, warnings=warnings, alerts=alerts, stored=gone)


async def _write(store: ProjectionStore, replacements: list[_Replacement]) -> set[UnitYear]:
    """Replace the scopes' rows, one statement per table for the whole batch (each
    statement costs a round trip and a run of the ranking triggers); the unit-years
    whose inputs changed. Only scopes that may hold rows are cleared: a new event's
    findings hold none yet (the unit locks were found the same way)."""
    complaint_ids = [cid for r in replacements for cid in r.complaint_ids]
    if complaint_ids:
        complaints = [state for r in replacements for state in r.complaints]
        await store.replace_complaints(complaint_ids, complaints)
    warnings = [w for r in replacements for w in r.warnings]
    cleared = [scope for r in replacements for scope in r.stored_scopes()]
    changed = _changed(await store.replace_warnings(cleared, warnings), warnings)
    with_alerts = [r for r in replacements if r.with_alerts]
    alerts = [a for r in with_alerts for a in r.alerts]
    cleared = [scope for r in with_alerts for scope in r.stored_scopes()]
    return changed | _changed(await store.replace_alerts(cleared, alerts), alerts)


async def _refresh_unit_years(
    store: ProjectionStore, unit_years: Collection[UnitYear], policy: Policy
) -> None:
    if not unit_years:
        return
    # Their units are held already (the rows that changed are the transaction's own);
    # should a rule ever name another unit, it is locked now, out of order.
    await store.lock_units({unit for unit, _ in unit_years}, complaint_ids=(), scopes=())
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
