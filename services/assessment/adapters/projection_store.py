"""PostgreSQL implementation of the projector's store, for one projection schema.

Every statement is set-based: rows travel as parallel arrays and are expanded with
`unnest`, so a batch of any size costs a fixed number of round trips. Statements
are built once per schema. The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from services.assessment.adapters.db import Connection
from services.assessment.adapters.fold_locks import (
    PARTITION_LOCK_CLASS,
    SCOPE_LOCK_CLASS,
    UNIT_LOCK_CLASS,
    FoldLocks,
)
from services.assessment.adapters.packed import SEP, pack
from services.assessment.adapters.projection_rows import (
    COMPLAINT_KINDS,
    EVIDENCE,
    FACT_KINDS,
    IDENTITY_KINDS,
    alert_from_row,
    alert_row,
    as_columns,
    collective_from_row,
    complaint_row,
    fact_rows,
    filing_from_row,
    finding_from_row,
    identity_from_row,
    timed_from_row,
    verdict_from_row,
    warning_from_row,
    warning_row,
)
from services.assessment.adapters.projection_sql import sql_for
from services.assessment.domain.changes import ChangeLog
from services.assessment.domain.event_facts import FactBatch
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, Finding
from services.assessment.domain.identity import Identity, Key
from services.assessment.domain.results import Alert, ComplaintState, Warning
from services.assessment.service_layer.store import StaffPeriod, UnitYear, UnitYearInputs
from shared.catalogue import (
    FindingCode,
)


class PgProjectionStore:
    """The projector's store on one projection schema, inside the caller's transaction.

    With `changes` (the live version), every warning and alert it replaces is recorded
    there, old and new, for the change feed. With `locks` (the live version, which
    several instances fold at once) it takes the scope locks of `fold_locks.py`;
    without, the caller writes alone (it holds the version's writer lock exclusive).
    """

    def __init__(
        self,
        conn: Connection,
        *,
        schema: str,
        tz: ZoneInfo,
        changes: ChangeLog | None = None,
        locks: FoldLocks | None = None,
    ) -> None:
        self._conn = conn
        self._sql = sql_for(schema)
        self._tz = tz
        self._changes = changes
        self._locks = locks

    # -- locks -------------------------------------------------------------------------

    async def lock_partitions(self, topic: str, partitions: Collection[int]) -> None:
        if self._locks is not None:
            await self._locks.take(PARTITION_LOCK_CLASS, [f"{topic}:{p}" for p in partitions])

    async def lock_scopes(self, scopes: Collection[str]) -> None:
        if self._locks is not None:
            await self._locks.take(SCOPE_LOCK_CLASS, scopes)

    async def lock_units(
        self, units: Collection[str], *, complaint_ids: Collection[str], scopes: Collection[str]
    ) -> None:
        if self._locks is None:
            return
        if complaint_ids or scopes:
            await self._locks.take_found(
                UNIT_LOCK_CLASS,
                self._sql.lock_units,
                list(units),
                list(complaint_ids),
                list(scopes),
            )
        else:
            await self._locks.take(UNIT_LOCK_CLASS, units)

    # -- facts ---------------------------------------------------------------------

    async def add_facts(self, facts: FactBatch) -> FactBatch:
        rows = fact_rows(facts, self._tz)
        sql = self._sql
        filings = await self._insert_new(
            sql.insert_filings, facts.filings, rows, "complaint_filings"
        )
        verdicts = await self._insert_new(
            sql.insert_verdicts, facts.verdicts, rows, "complaint_verdicts"
        )
        inspections = await self._insert_new(
            sql.insert_inspections, facts.inspections, rows, "inspections"
        )
        commendations = await self._insert_new(
            sql.insert_commendations, facts.commendations, rows, "commendations"
        )
        new_inspections = {i.key.identity() for i in inspections}
        findings = list(
            {
                f.identity(): f for f in facts.findings if f.key.identity() in new_inspections
            }.values()
        )
        if findings:
            rows_of = {
                f.identity(): row for f, row in zip(facts.findings, rows["findings"], strict=True)
            }
            new_rows = [rows_of[f.identity()] for f in findings]
            await self._conn.execute(
                self._sql.insert_findings, *pack(new_rows, FACT_KINDS["findings"])
            )
        return FactBatch(filings, verdicts, inspections, findings, commendations)

    async def _insert_new(
        self, sql: str, items: Sequence[Any], rows: dict[str, list[tuple[Any, ...]]], table: str
    ) -> list[Any]:
        """Insert the table's rows (one per item); return the items whose (source,
        event_id) was new, once each."""
        if not items:
            return []
        inserted = await self._conn.fetch(sql, *pack(rows[table], FACT_KINDS[table]))
        fresh = {(record["source"], record["event_id"]) for record in inserted}
        chosen: list[Any] = []
        for item in items:
            identity = item.key.identity()
            if identity in fresh:
                fresh.discard(identity)
                chosen.append(item)
        return chosen

    async def complaint_facts(
        self, complaint_ids: Collection[str]
    ) -> tuple[list[ComplaintFiling], list[ComplaintVerdict]]:
        ids = list(complaint_ids)
        filings = [filing_from_row(r) for r in await self._conn.fetch(self._sql.filings_of, ids)]
        verdicts = [verdict_from_row(r) for r in await self._conn.fetch(self._sql.verdicts_of, ids)]
        return filings, verdicts

    async def attendance_findings(
        self, staff_periods: Collection[StaffPeriod], codes: Collection[FindingCode]
    ) -> list[Finding]:
        staff, months = as_columns(list(staff_periods), 2)
        code_values = [code.value for code in codes]
        return [
            finding_from_row(r)
            for r in await self._conn.fetch(
                self._sql.attendance_findings, staff, months, code_values
            )
        ]

    # -- derived rows ----------------------------------------------------------------

    async def replace_complaints(
        self, complaint_ids: Collection[str], states: Sequence[ComplaintState]
    ) -> None:
        await self._conn.execute(self._sql.delete_complaints, list(complaint_ids))
        if states:
            rows = [complaint_row(state) for state in states]
            await self._conn.execute(self._sql.insert_complaints, *pack(rows, COMPLAINT_KINDS))

    async def replace_warnings(
        self, scopes: Collection[str], warnings: Sequence[Warning]
    ) -> list[Warning]:
        rows = await self._conn.fetch(self._sql.delete_warnings, list(scopes)) if scopes else []
        replaced = [warning_from_row(r) for r in rows]
        if warnings:
            columns = as_columns([warning_row(w) for w in warnings], 12)
            columns[EVIDENCE] = [SEP.join(ids) for ids in columns[EVIDENCE]]
            await self._conn.execute(self._sql.insert_warnings, *columns)
        if self._changes is not None:
            self._changes.record(replaced, warnings)
        return replaced

    async def replace_alerts(self, scopes: Collection[str], alerts: Sequence[Alert]) -> list[Alert]:
        rows = await self._conn.fetch(self._sql.delete_alerts, list(scopes)) if scopes else []
        replaced = [alert_from_row(r) for r in rows]
        if alerts:
            await self._insert_alerts([alert_row(a, self._tz) for a in alerts])
        if self._changes is not None:
            self._changes.record(replaced, alerts)
        return replaced

    async def sync_alerts(self, scopes: Collection[str], alerts: Sequence[Alert]) -> None:
        stored = {
            r["id"]: r["digest"]
            for r in await self._conn.fetch(self._sql.alert_digests, list(scopes))
        }
        rows = [alert_row(a, self._tz) for a in alerts]
        unchanged = {row[0] for row in rows if stored.get(row[0]) == row[-1]}
        stale = [alert_id for alert_id in stored if alert_id not in unchanged]
        removed = []
        if stale:
            removed = await self._conn.fetch(self._sql.delete_alerts_by_id, stale)
        await self._insert_alerts([row for row in rows if row[0] not in unchanged])
        if self._changes is not None:
            self._changes.record(
                [alert_from_row(r) for r in removed], [a for a in alerts if a.id not in unchanged]
            )

    async def _insert_alerts(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            columns = as_columns(rows, 13)
            columns[EVIDENCE] = [SEP.join(ids) for ids in columns[EVIDENCE]]
            await self._conn.execute(self._sql.insert_alerts, *columns)

    async def unit_year_inputs(
        self, unit_years: Collection[UnitYear]
    ) -> dict[UnitYear, UnitYearInputs]:
        units, years = as_columns(list(unit_years), 2)
        grouped: dict[UnitYear, UnitYearInputs] = {}
        for r in await self._conn.fetch(self._sql.unit_year_inputs, units, years):
            warnings, collectives = grouped.setdefault((r["unit_id"], r["year"]), ([], []))
            if r["kind"] == "w":
                warnings.append(timed_from_row(r))
            else:
                collectives.append(collective_from_row(r))
        return grouped

    # -- identities --------------------------------------------------------------------

    async def identities(self, keys: Collection[Key]) -> dict[Key, Identity]:
        if not keys:
            return {}
        sources, ids = as_columns(list(set(keys)), 2)
        return {
            (r["source"], r["event_id"]): identity_from_row(r)
            for r in await self._conn.fetch(self._sql.identities, sources, ids)
        }

    async def claim_identities(self, identities: Sequence[Identity]) -> dict[Key, Identity]:
        if not identities:
            return {}
        rows = [
            (i.source, i.event_id, i.digest, i.recorded_at, i.partition, i.offset)
            for i in identities
        ]
        claimed = {
            (r["source"], r["event_id"])
            for r in await self._conn.fetch(self._sql.claim_identities, *pack(rows, IDENTITY_KINDS))
        }
        others = [i.key for i in identities if i.key not in claimed]
        if not others:
            return {}
        sources, ids = as_columns(others, 2)
        return {
            (r["source"], r["event_id"]): identity_from_row(r)
            for r in await self._conn.fetch(self._sql.locked_identities, sources, ids)
        }

    async def save_identities(self, identities: Sequence[Identity]) -> None:
        if identities:
            rows = [
                (i.source, i.event_id, i.digest, i.recorded_at, i.partition, i.offset)
                for i in identities
            ]
            await self._conn.execute(self._sql.save_identities, *pack(rows, IDENTITY_KINDS))

    async def retract(self, keys: Collection[Key]) -> FactBatch:
        if not keys:
            return FactBatch()
        sources, ids = as_columns(list(set(keys)), 2)
        sql, conn = self._sql, self._conn
        filings = [filing_from_row(r) for r in await conn.fetch(sql.retract_filings, sources, ids)]
        verdicts = [
            verdict_from_row(r) for r in await conn.fetch(sql.retract_verdicts, sources, ids)
        ]
        findings = [
            finding_from_row(r) for r in await conn.fetch(sql.retract_inspections, sources, ids)
        ]
        await conn.execute(sql.retract_commendations, sources, ids)
        return FactBatch(filings=filings, verdicts=verdicts, findings=findings)

    # -- positions -------------------------------------------------------------------

    async def positions(self, topic: str) -> dict[int, int]:
        rows = await self._conn.fetch(self._sql.positions, topic)
        return {row["partition"]: row["offset"] for row in rows}

    async def save_positions(self, topic: str, positions: dict[int, int]) -> None:
        if positions:
            partitions, offsets = as_columns(list(positions.items()), 2)
            await self._conn.execute(self._sql.save_positions, topic, partitions, offsets)
