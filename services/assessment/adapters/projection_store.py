"""PostgreSQL implementation of the projector's store, for one projection schema.

Every statement is set-based: rows travel as parallel arrays and are expanded with
`unnest`, so a batch of any size costs a fixed number of round trips. Statements
are built once per schema. The caller owns the transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from services.assessment.adapters.db import Connection
from services.assessment.adapters.fold_locks import (
    PARTITION_LOCK_CLASS,
    SCOPE_LOCK_CLASS,
    UNIT_LOCK_CLASS,
    FoldLocks,
    lock_statement,
)
from services.assessment.adapters.schema import checked_schema
from services.assessment.domain.calendar import month_of
from services.assessment.domain.changes import ChangeLog
from services.assessment.domain.event_facts import FactBatch
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, EventKey, Finding
from services.assessment.domain.identity import Identity, Key
from services.assessment.domain.results import Alert, ComplaintState, Warning
from services.assessment.service_layer.store import StaffPeriod, UnitYear, UnitYearInputs
from shared.catalogue import (
    AlertLevel,
    AlertRule,
    Category,
    Channel,
    FindingCode,
    Handling,
    Outcome,
    Status,
    WarningRule,
)

SEP = "\x1f"  # joins evidence ids into one text per row (ids are visible ASCII)
EVIDENCE = 9  # column of the evidence ids in warning_row() and alert_row()

_WARNING_COLUMNS = (
    "id, scope, staff_id, unit_id, rule, period, year, issued_at, revoked_at, evidence, "
    "status, policy_version"
)
_ALERT_COLUMNS = (
    "id, scope, unit_id, rule, level, year, month, issued_at, revoked_at, evidence, "
    "status, policy_version, digest"
)
_COMPLAINT_COLUMNS = (
    "complaint_id, unit_id, staff_id, filing_event_id, filed_at, filed_month, channel, "
    "category, handling, final_category, deadline, deadline_month, resolved_at, "
    "resolved_month, resolved_late, outcome, outcome_at, outcome_month, verdict_event_id, "
    "responsible_staff_id, obstructed"
)


class Sql:
    """The statements of one projection schema."""

    def __init__(self, schema: str) -> None:
        s = checked_schema(schema)
        self.insert_filings = f"""
            INSERT INTO {s}.complaint_filings
                (source, event_id, occurred_at, complaint_id, unit_id, staff_id, channel,
                 category, handling)
            SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[],
                                 $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
            ON CONFLICT DO NOTHING RETURNING source, event_id"""
        self.insert_verdicts = f"""
            INSERT INTO {s}.complaint_verdicts
                (source, event_id, occurred_at, complaint_id, unit_id, staff_id, outcome,
                 category, obstructed)
            SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[],
                                 $5::text[], $6::text[], $7::text[], $8::text[], $9::bool[])
            ON CONFLICT DO NOTHING RETURNING source, event_id"""
        self.insert_inspections = f"""
            INSERT INTO {s}.inspections
                (source, event_id, occurred_at, inspection_id, unit_id, mode, finding_count,
                 month)
            SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[],
                                 $5::text[], $6::text[], $7::int[], $8::text[])
            ON CONFLICT DO NOTHING RETURNING source, event_id"""
        self.insert_findings = f"""
            INSERT INTO {s}.findings
                (source, event_id, occurred_at, position, unit_id, staff_id, code, unit_wide,
                 month)
            SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[],
                                 $5::text[], $6::text[], $7::text[], $8::bool[], $9::text[])
            ON CONFLICT DO NOTHING"""
        self.insert_commendations = f"""
            INSERT INTO {s}.commendations
                (source, event_id, occurred_at, commendation_id, unit_id, staff_id, kind, month)
            SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[],
                                 $5::text[], $6::text[], $7::text[], $8::text[])
            ON CONFLICT DO NOTHING RETURNING source, event_id"""
        self.filings_of = f"""
            SELECT source, event_id, occurred_at, complaint_id, unit_id, staff_id, channel,
                   category, handling
            FROM {s}.complaint_filings WHERE complaint_id = ANY($1::text[])"""
        self.verdicts_of = f"""
            SELECT source, event_id, occurred_at, complaint_id, unit_id, staff_id, outcome,
                   category, obstructed
            FROM {s}.complaint_verdicts WHERE complaint_id = ANY($1::text[])"""
        self.attendance_findings = f"""
            SELECT f.source, f.event_id, f.occurred_at, f.position, f.unit_id, f.staff_id,
                   f.code, f.unit_wide, i.inspection_id
            FROM {s}.findings f
            JOIN unnest($1::text[], $2::text[]) AS wanted (staff_id, month)
              ON f.staff_id = wanted.staff_id AND f.month = wanted.month
            JOIN {s}.inspections i ON i.source = f.source AND i.event_id = f.event_id
            WHERE f.code = ANY($3::text[])"""
        self.delete_complaints = f"DELETE FROM {s}.complaints WHERE complaint_id = ANY($1::text[])"
        self.insert_complaints = f"""
            INSERT INTO {s}.complaints ({_COMPLAINT_COLUMNS})
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                $11::timestamptz[], $12::text[], $13::timestamptz[], $14::text[], $15::bool[],
                $16::text[], $17::timestamptz[], $18::text[], $19::text[], $20::text[],
                $21::bool[])"""
        self.delete_warnings = f"""
            DELETE FROM {s}.warnings WHERE scope = ANY($1::text[])
            RETURNING {_WARNING_COLUMNS}"""
        self.insert_warnings = f"""
            INSERT INTO {s}.warnings ({_WARNING_COLUMNS})
            SELECT id, scope, staff_id, unit_id, rule, period, year, issued_at, revoked_at,
                   string_to_array(evidence, chr(31)), status, policy_version
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                        $7::int[], $8::timestamptz[], $9::timestamptz[], $10::text[],
                        $11::text[], $12::text[])
                 AS r (id, scope, staff_id, unit_id, rule, period, year, issued_at, revoked_at,
                       evidence, status, policy_version)"""
        self.delete_alerts = f"""
            DELETE FROM {s}.alerts WHERE scope = ANY($1::text[])
            RETURNING {_ALERT_COLUMNS}"""
        self.insert_alerts = f"""
            INSERT INTO {s}.alerts ({_ALERT_COLUMNS})
            SELECT id, scope, unit_id, rule, level, year, month, issued_at, revoked_at,
                   string_to_array(evidence, chr(31)), status, policy_version, digest
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[],
                        $7::text[], $8::timestamptz[], $9::timestamptz[], $10::text[],
                        $11::text[], $12::text[], $13::bytea[])
                 AS r (id, scope, unit_id, rule, level, year, month, issued_at, revoked_at,
                       evidence, status, policy_version, digest)"""
        self.alert_digests = f"SELECT id, digest FROM {s}.alerts WHERE scope = ANY($1::text[])"
        self.delete_alerts_by_id = f"""
            DELETE FROM {s}.alerts WHERE id = ANY($1::text[]) RETURNING {_ALERT_COLUMNS}"""
        # Only what the timeline reads (no evidence): unit-years are recomputed often.
        self.unit_year_inputs = f"""
            SELECT 'w' AS kind, id, unit_id, year, issued_at, revoked_at, status, NULL AS rule
              FROM {s}.warnings
              JOIN unnest($1::text[], $2::int[]) AS wanted (unit_id, year)
             USING (unit_id, year)
            UNION ALL
            SELECT 'a', id, unit_id, year, issued_at, revoked_at, status, rule
              FROM {s}.alerts
              JOIN unnest($1::text[], $2::int[]) AS wanted (unit_id, year)
             USING (unit_id, year)
             WHERE rule IN ('obstruction', 'unit_wide_violation')"""
        self.identities = f"""
            SELECT e.source, e.event_id, e.digest, e.recorded_at, e.partition, e."offset"
            FROM {s}.event_ids e
            JOIN unnest($1::text[], $2::text[]) AS k (source, event_id) USING (source, event_id)"""
        # New pairs are claimed by inserting them (a concurrent fold of the same pair
        # waits on the uncommitted row, then finds it); the others are locked as read.
        # Both in key order.
        self.claim_identities = f"""
            INSERT INTO {s}.event_ids (source, event_id, digest, recorded_at, partition, "offset")
            SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::timestamptz[],
                                 $5::int[], $6::bigint[])
                AS c (source, event_id, digest, recorded_at, partition, "offset")
            ORDER BY source, event_id
            ON CONFLICT DO NOTHING RETURNING source, event_id"""
        self.locked_identities = f"""
            SELECT e.source, e.event_id, e.digest, e.recorded_at, e.partition, e."offset"
            FROM {s}.event_ids e
            JOIN unnest($1::text[], $2::text[]) AS k (source, event_id) USING (source, event_id)
            ORDER BY e.source, e.event_id
            FOR UPDATE OF e"""
        # The given units and those the rows of these complaints and scopes name.
        self.lock_units = lock_statement(f"""
            SELECT unnest($3::text[])
            UNION ALL SELECT unit_id FROM {s}.complaints WHERE complaint_id = ANY($4::text[])
            UNION ALL SELECT unit_id FROM {s}.warnings WHERE scope = ANY($5::text[])
            UNION ALL SELECT unit_id FROM {s}.alerts WHERE scope = ANY($5::text[])""")
        self.save_identities = f"""
            INSERT INTO {s}.event_ids (source, event_id, digest, recorded_at, partition, "offset")
            SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::timestamptz[],
                                 $5::int[], $6::bigint[])
            ON CONFLICT (source, event_id) DO UPDATE
               SET digest = excluded.digest, recorded_at = excluded.recorded_at,
                   partition = excluded.partition, "offset" = excluded."offset"
        """
        keys = "(source, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
        self.retract_filings = f"""
            DELETE FROM {s}.complaint_filings WHERE {keys}
            RETURNING source, event_id, occurred_at, complaint_id, unit_id, staff_id, channel,
                      category, handling"""
        self.retract_verdicts = f"""
            DELETE FROM {s}.complaint_verdicts WHERE {keys}
            RETURNING source, event_id, occurred_at, complaint_id, unit_id, staff_id, outcome,
                      category, obstructed"""
        self.retract_inspections = f"""
            WITH gone AS (DELETE FROM {s}.inspections WHERE {keys}
                          RETURNING source, event_id, inspection_id),
                 f AS (DELETE FROM {s}.findings WHERE {keys} RETURNING *)
            SELECT f.source, f.event_id, f.occurred_at, f.position, f.unit_id, f.staff_id,
                   f.code, f.unit_wide, gone.inspection_id
            FROM f JOIN gone USING (source, event_id)"""
        self.retract_commendations = f"DELETE FROM {s}.commendations WHERE {keys}"
        self.positions = f'SELECT partition, "offset" FROM {s}.positions WHERE topic = $1'
        self.save_positions = f"""
            INSERT INTO {s}.positions (topic, partition, "offset")
            SELECT $1, * FROM unnest($2::int[], $3::bigint[])
            ON CONFLICT (topic, partition) DO UPDATE
               SET "offset" = GREATEST({s}.positions."offset", excluded."offset")"""


@cache
def sql_for(schema: str) -> Sql:
    return Sql(schema)


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows -> one list per column, the shape `unnest` takes."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


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
            sql.insert_filings, facts.filings, rows["complaint_filings"]
        )
        verdicts = await self._insert_new(
            sql.insert_verdicts, facts.verdicts, rows["complaint_verdicts"]
        )
        inspections = await self._insert_new(
            sql.insert_inspections, facts.inspections, rows["inspections"]
        )
        commendations = await self._insert_new(
            sql.insert_commendations, facts.commendations, rows["commendations"]
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
            await self._conn.execute(self._sql.insert_findings, *_columns(new_rows, 9))
        return FactBatch(filings, verdicts, inspections, findings, commendations)

    async def _insert_new(
        self, sql: str, items: Sequence[Any], rows: list[tuple[Any, ...]]
    ) -> list[Any]:
        """Insert `rows` (one per item); return the items whose (source, event_id) was
        new, once each."""
        if not items:
            return []
        inserted = await self._conn.fetch(sql, *_columns(rows, len(rows[0])))
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
        staff, months = _columns(list(staff_periods), 2)
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
            await self._conn.execute(self._sql.insert_complaints, *_columns(rows, 21))

    async def replace_warnings(
        self, scopes: Collection[str], warnings: Sequence[Warning]
    ) -> list[Warning]:
        rows = await self._conn.fetch(self._sql.delete_warnings, list(scopes)) if scopes else []
        replaced = [warning_from_row(r) for r in rows]
        if warnings:
            columns = _columns([warning_row(w) for w in warnings], 12)
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
            columns = _columns(rows, 13)
            columns[EVIDENCE] = [SEP.join(ids) for ids in columns[EVIDENCE]]
            await self._conn.execute(self._sql.insert_alerts, *columns)

    async def unit_year_inputs(
        self, unit_years: Collection[UnitYear]
    ) -> dict[UnitYear, UnitYearInputs]:
        units, years = _columns(list(unit_years), 2)
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
        sources, ids = _columns(list(set(keys)), 2)
        return {
            (r["source"], r["event_id"]): _identity(r)
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
            for r in await self._conn.fetch(self._sql.claim_identities, *_columns(rows, 6))
        }
        others = [i.key for i in identities if i.key not in claimed]
        if not others:
            return {}
        sources, ids = _columns(others, 2)
        return {
            (r["source"], r["event_id"]): _identity(r)
            for r in await self._conn.fetch(self._sql.locked_identities, sources, ids)
        }

    async def save_identities(self, identities: Sequence[Identity]) -> None:
        if identities:
            rows = [
                (i.source, i.event_id, i.digest, i.recorded_at, i.partition, i.offset)
                for i in identities
            ]
            await self._conn.execute(self._sql.save_identities, *_columns(rows, 6))

    async def retract(self, keys: Collection[Key]) -> FactBatch:
        if not keys:
            return FactBatch()
        sources, ids = _columns(list(set(keys)), 2)
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
            partitions, offsets = _columns(list(positions.items()), 2)
            await self._conn.execute(self._sql.save_positions, topic, partitions, offsets)


def _identity(r: asyncpg.Record) -> Identity:
    return Identity(
        r["source"], r["event_id"], r["digest"], r["recorded_at"], r["partition"], r["offset"]
    )


def _key(key: EventKey) -> tuple[Any, ...]:
    return (key.source, key.event_id, key.occurred_at)


def fact_rows(facts: FactBatch, tz: ZoneInfo) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each fact table, in the column order of their insert statements."""
    return {
        "complaint_filings": [
            (*_key(f.key), f.complaint_id, f.unit_id, f.staff_id, f.channel.value,
             f.category.value, f.handling.value)
            for f in facts.filings
        ],
        "complaint_verdicts": [
            (*_key(v.key), v.complaint_id, v.unit_id, v.staff_id, v.outcome.value,
             v.category.value if v.category else None, v.obstructed)
            for v in facts.verdicts
        ],
        "inspections": [
            (*_key(i.key), i.inspection_id, i.unit_id, i.mode.value, i.finding_count,
             month_of(i.key.occurred_at, tz))
            for i in facts.inspections
        ],
        "findings": [
            (*_key(f.key), f.position, f.unit_id, f.staff_id, f.code.value, f.unit_wide,
             month_of(f.key.occurred_at, tz))
            for f in facts.findings
        ],
        "commendations": [
            (*_key(c.key), c.commendation_id, c.unit_id, c.staff_id, c.kind.value,
             month_of(c.key.occurred_at, tz))
            for c in facts.commendations
        ],
    }  # fmt: skip


def filing_from_row(r: Any) -> ComplaintFiling:
    return ComplaintFiling(
        key=event_key(r),
        complaint_id=r["complaint_id"],
        unit_id=r["unit_id"],
        staff_id=r["staff_id"],
        channel=Channel(r["channel"]),
        category=Category(r["category"]),
        handling=Handling(r["handling"]),
    )


def verdict_from_row(r: Any) -> ComplaintVerdict:
    return ComplaintVerdict(
        key=event_key(r),
        complaint_id=r["complaint_id"],
        unit_id=r["unit_id"],
        staff_id=r["staff_id"],
        outcome=Outcome(r["outcome"]),
        category=Category(r["category"]) if r["category"] else None,
        obstructed=r["obstructed"],
    )


def finding_from_row(r: Any) -> Finding:
    return Finding(
        key=event_key(r),
        position=r["position"],
        inspection_id=r["inspection_id"],
        unit_id=r["unit_id"],
        staff_id=r["staff_id"],
        code=FindingCode(r["code"]),
        unit_wide=r["unit_wide"],
    )


def event_key(row: asyncpg.Record) -> EventKey:
    return EventKey(occurred_at=row["occurred_at"], event_id=row["event_id"], source=row["source"])


def complaint_row(state: ComplaintState) -> tuple[Any, ...]:
    return (
        state.complaint_id,
        state.unit_id,
        state.staff_id,
        state.filing_event_id,
        state.filed_at,
        state.filed_month,
        state.channel.value,
        state.category.value,
        state.handling.value,
        state.final_category.value,
        state.deadline,
        state.deadline_month,
        state.resolved_at,
        state.resolved_month,
        state.resolved_late,
        state.outcome.value if state.outcome else None,
        state.outcome_at,
        state.outcome_month,
        state.verdict_event_id,
        state.responsible_staff_id,
        state.obstructed,
    )


def warning_row(w: Warning) -> tuple[Any, ...]:
    return (
        w.id,
        w.scope,
        w.staff_id,
        w.unit_id,
        w.rule.value,
        w.period,
        int(w.period[:4]),
        w.issued_at,
        w.revoked_at,
        list(w.evidence),
        w.status.value,
        w.policy_version,
    )


def alert_row(a: Alert, tz: ZoneInfo) -> tuple[Any, ...]:
    """The stored row; its last column is a digest of the others."""
    row = (
        a.id,
        a.scope,
        a.unit_id,
        a.rule.value,
        a.level.value,
        a.year,
        month_of(a.issued_at, tz),
        a.issued_at,
        a.revoked_at,
        list(a.evidence),
        a.status.value,
        a.policy_version,
    )
    # Instants as timestamps: the same alert digests alike whatever its times' zone.
    canonical = tuple(v.timestamp() if isinstance(v, datetime) else v for v in row)
    return (*row, hashlib.blake2b(repr(canonical).encode(), digest_size=16).digest())


@dataclass(frozen=True, slots=True)
class TimedRow:
    """A stored warning as the unit-year timeline reads it."""

    id: str
    unit_id: str
    issued_at: datetime
    revoked_at: datetime | None
    status: Status


@dataclass(frozen=True, slots=True)
class CollectiveRow:
    """A stored event-raised collective warning as the unit-year timeline reads it."""

    id: str
    unit_id: str
    issued_at: datetime
    revoked_at: datetime | None
    status: Status
    rule: AlertRule
    year: int


def timed_from_row(r: Any) -> TimedRow:
    return TimedRow(r["id"], r["unit_id"], r["issued_at"], r["revoked_at"], Status(r["status"]))


def collective_from_row(r: Any) -> CollectiveRow:
    return CollectiveRow(
        r["id"],
        r["unit_id"],
        r["issued_at"],
        r["revoked_at"],
        Status(r["status"]),
        AlertRule(r["rule"]),
        r["year"],
    )


def warning_from_row(r: asyncpg.Record) -> Warning:
    return Warning(
        id=r["id"],
        staff_id=r["staff_id"],
        unit_id=r["unit_id"],
        rule=WarningRule(r["rule"]),
        period=r["period"],
        issued_at=r["issued_at"],
        evidence=tuple(r["evidence"]),
        status=Status(r["status"]),
        policy_version=r["policy_version"],
        scope=r["scope"],
        revoked_at=r["revoked_at"],
    )


def alert_from_row(r: asyncpg.Record) -> Alert:
    return Alert(
        id=r["id"],
        unit_id=r["unit_id"],
        rule=AlertRule(r["rule"]),
        level=AlertLevel(r["level"]),
        year=r["year"],
        issued_at=r["issued_at"],
        evidence=tuple(r["evidence"]),
        status=Status(r["status"]),
        policy_version=r["policy_version"],
        scope=r["scope"],
        revoked_at=r["revoked_at"],
    )
