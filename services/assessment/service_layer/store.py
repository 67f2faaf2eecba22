"""The narrow interface the projector writes through.

`adapters/projection_store.py` implements it on PostgreSQL; the unit tests use an
in-memory implementation of the same protocol. Calls happen inside one transaction
that the caller owns.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from services.assessment.domain.event_facts import FactBatch
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, Finding
from services.assessment.domain.identity import Identity, Key
from services.assessment.domain.results import Alert, ComplaintState, Warning
from services.assessment.domain.unit_alerts import Timed, TimedCollective
from shared.catalogue import FindingCode

StaffPeriod = tuple[str, str]  # (staff_id, "YYYY-MM")
UnitYear = tuple[str, int]
UnitYearInputs = tuple[list[Timed], list[TimedCollective]]


class ProjectionStore(Protocol):
    async def identities(self, keys: Collection[Key]) -> dict[Key, Identity]:
        """The standing copy of each of these (source, id) pairs that has one."""
        ...

    async def save_identities(self, identities: Sequence[Identity]) -> None:
        """Store these as the standing copies of their pairs (insert or replace)."""
        ...

    async def retract(self, keys: Collection[Key]) -> FactBatch:
        """Remove every fact of these events; return the removed filings, verdicts
        and findings (what the rules read)."""
        ...

    async def add_facts(self, facts: FactBatch) -> FactBatch:
        """Store the facts of events not seen before; return exactly those, once each."""
        ...

    async def complaint_facts(
        self, complaint_ids: Collection[str]
    ) -> tuple[list[ComplaintFiling], list[ComplaintVerdict]]:
        """Every stored filing and verdict of these complaints."""
        ...

    async def attendance_findings(
        self, staff_periods: Collection[StaffPeriod], codes: Collection[FindingCode]
    ) -> list[Finding]:
        """The stored findings with these codes naming these staff members in that month."""
        ...

    async def replace_complaints(
        self, complaint_ids: Collection[str], states: Sequence[ComplaintState]
    ) -> None: ...

    async def replace_warnings(
        self, scopes: Collection[str], warnings: Sequence[Warning]
    ) -> list[Warning]:
        """Replace every warning of these scopes; return the ones replaced."""
        ...

    async def replace_alerts(self, scopes: Collection[str], alerts: Sequence[Alert]) -> list[Alert]:
        """Replace every alert of these scopes; return the ones replaced."""
        ...

    async def sync_alerts(self, scopes: Collection[str], alerts: Sequence[Alert]) -> None:
        """Make these scopes hold exactly `alerts`, writing only what differs."""
        ...

    async def unit_year_inputs(
        self, unit_years: Collection[UnitYear]
    ) -> dict[UnitYear, UnitYearInputs]:
        """Per unit-year: its individual warnings and its obstruction and
        unit_wide_violation alerts (the collective warnings other rules raised), as
        much of them as the timeline reads."""
        ...
