"""An in-memory ProjectionStore and write transaction: the same protocol as the
PostgreSQL adapter, for tests of the service layer without a database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from zoneinfo import ZoneInfo

from services.assessment.domain.calendar import month_of
from services.assessment.domain.event_facts import CommendationFact, FactBatch, InspectionFact
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, Finding
from services.assessment.domain.identity import Identity, Key
from services.assessment.domain.policy import Policy
from services.assessment.domain.records import Poison
from services.assessment.domain.results import Alert, ComplaintState, Warning
from services.assessment.service_layer.store import StaffPeriod, UnitYear, UnitYearInputs
from shared.catalogue import AlertRule, FindingCode

COLLECTIVE_RULES = {AlertRule.OBSTRUCTION, AlertRule.UNIT_WIDE_VIOLATION}


@dataclass
class InMemoryStore:
    tz: ZoneInfo
    filings: dict[tuple[str, str], ComplaintFiling] = field(default_factory=dict)
    verdicts: dict[tuple[str, str], ComplaintVerdict] = field(default_factory=dict)
    inspections: dict[tuple[str, str], InspectionFact] = field(default_factory=dict)
    findings: dict[tuple[str, str, int], Finding] = field(default_factory=dict)
    commendations: dict[tuple[str, str], CommendationFact] = field(default_factory=dict)
    complaints: dict[str, ComplaintState] = field(default_factory=dict)
    warnings: dict[str, Warning] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    positions_by_topic: dict[str, dict[int, int]] = field(default_factory=dict)
    event_ids: dict[Key, Identity] = field(default_factory=dict)

    async def identities(self, keys: Collection[Key]) -> dict[Key, Identity]:
        return {key: self.event_ids[key] for key in keys if key in self.event_ids}

    async def save_identities(self, identities: Sequence[Identity]) -> None:
        for identity in identities:
            self.event_ids[identity.key] = identity

    async def retract(self, keys: Collection[Key]) -> FactBatch:
        gone = FactBatch()
        for key in keys:
            if (filing := self.filings.pop(key, None)) is not None:
                gone.filings.append(filing)
            if (verdict := self.verdicts.pop(key, None)) is not None:
                gone.verdicts.append(verdict)
            self.inspections.pop(key, None)
            self.commendations.pop(key, None)
            for identity in [i for i in self.findings if i[:2] == key]:
                gone.findings.append(self.findings.pop(identity))
        return gone

    async def add_facts(self, facts: FactBatch) -> FactBatch:
        new = FactBatch(
            filings=_add_new(self.filings, facts.filings),
            verdicts=_add_new(self.verdicts, facts.verdicts),
            inspections=_add_new(self.inspections, facts.inspections),
            commendations=_add_new(self.commendations, facts.commendations),
        )
        fresh = {i.key.identity() for i in new.inspections}
        for finding in facts.findings:
            if finding.key.identity() in fresh and finding.identity() not in self.findings:
                self.findings[finding.identity()] = finding
                new.findings.append(finding)
        return new

    async def complaint_facts(
        self, complaint_ids: Collection[str]
    ) -> tuple[list[ComplaintFiling], list[ComplaintVerdict]]:
        wanted = set(complaint_ids)
        return (
            [f for f in self.filings.values() if f.complaint_id in wanted],
            [v for v in self.verdicts.values() if v.complaint_id in wanted],
        )

    async def attendance_findings(
        self, staff_periods: Collection[StaffPeriod], codes: Collection[FindingCode]
    ) -> list[Finding]:
        wanted = set(staff_periods)
        return [
            f
            for f in self.findings.values()
            if f.code in codes
            and f.staff_id is not None
            and (f.staff_id, month_of(f.key.occurred_at, self.tz)) in wanted
        ]

    async def replace_complaints(
        self, complaint_ids: Collection[str], states: Sequence[ComplaintState]
    ) -> None:
        for complaint_id in complaint_ids:
            self.complaints.pop(complaint_id, None)
        for state in states:
            self.complaints[state.complaint_id] = state

    async def replace_warnings(
        self, scopes: Collection[str], warnings: Sequence[Warning]
    ) -> list[Warning]:
        replaced = [w for w in self.warnings.values() if w.scope in set(scopes)]
        for warning in replaced:
            del self.warnings[warning.id]
        for warning in warnings:
            assert warning.id not in self.warnings, f"duplicate warning id {warning.id}"
            self.warnings[warning.id] = warning
        return replaced

    async def replace_alerts(self, scopes: Collection[str], alerts: Sequence[Alert]) -> list[Alert]:
        replaced = [a for a in self.alerts.values() if a.scope in set(scopes)]
        for alert in replaced:
            del self.alerts[alert.id]
        for alert in alerts:
            assert alert.id not in self.alerts, f"duplicate alert id {alert.id}"
            self.alerts[alert.id] = alert
        return replaced

    async def sync_alerts(self, scopes: Collection[str], alerts: Sequence[Alert]) -> None:
        await self.replace_alerts(scopes, alerts)

    async def unit_year_inputs(
        self, unit_years: Collection[UnitYear]
    ) -> dict[UnitYear, UnitYearInputs]:
        grouped: dict[UnitYear, UnitYearInputs] = {key: ([], []) for key in unit_years}
        for w in self.warnings.values():
            if (w.unit_id, int(w.period[:4])) in grouped:
                grouped[(w.unit_id, int(w.period[:4]))][0].append(w)
        for a in self.alerts.values():
            if a.rule in COLLECTIVE_RULES and (a.unit_id, a.year) in grouped:
                grouped[(a.unit_id, a.year)][1].append(a)
        return grouped

    async def positions(self, topic: str) -> dict[int, int]:
        return dict(self.positions_by_topic.get(topic, {}))

    async def save_positions(self, topic: str, positions: dict[int, int]) -> None:
        stored = self.positions_by_topic.setdefault(topic, {})
        for partition, offset in positions.items():
            stored[partition] = max(stored.get(partition, -1), offset)


_F = TypeVar("_F", ComplaintFiling, ComplaintVerdict, InspectionFact, CommendationFact)


def _add_new(stored: dict[tuple[str, str], _F], items: Sequence[_F]) -> list[_F]:
    """Keep and return the items whose (source, event id) was not stored yet."""
    new = []
    for item in items:
        if item.key.identity() not in stored:
            stored[item.key.identity()] = item
            new.append(item)
    return new


@dataclass
class InMemoryTx:
    """The write transaction over the in-memory store (no rollback needed in tests)."""

    policy: Policy
    store: InMemoryStore
    parked: list[Poison] = field(default_factory=list)

    async def park(self, poison: Sequence[Poison]) -> Sequence[Poison]:
        seen = {p.record.position for p in self.parked}
        fresh = [p for p in poison if p.record.position not in seen]
        self.parked.extend(fresh)
        return fresh

    async def positions(self, topic: str) -> dict[int, int]:
        return await self.store.positions(topic)

    async def save_positions(self, topic: str, positions: dict[int, int]) -> None:
        await self.store.save_positions(topic, positions)
