"""Bulk access to a projection version that is being built (not yet live).

Used by the full rebuild: secondary indexes are dropped while facts are loaded and
built once afterwards; facts are streamed back ordered by scope through server-side
cursors (bounded memory); results are written with binary COPY.
"""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from services.assessment.adapters.db import Connection
from services.assessment.adapters.projection_rows import (
    alert_row,
    collective_from_row,
    complaint_row,
    filing_from_row,
    finding_from_row,
    timed_from_row,
    verdict_from_row,
    warning_row,
)
from services.assessment.adapters.schema import checked_schema, ident
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, Finding
from services.assessment.domain.results import Alert, ComplaintState, Warning
from services.assessment.domain.unit_alerts import Timed, TimedCollective
from services.assessment.service_layer.rebuild_ports import WHOLE, Index, Part
from shared.catalogue import FindingCode

PREFETCH = 10_000

WARNING_COLUMNS = [
    "id", "scope", "staff_id", "unit_id", "rule", "period", "year", "issued_at",
    "revoked_at", "evidence", "status", "policy_version",
]  # fmt: skip
ALERT_COLUMNS = [
    "id", "scope", "unit_id", "rule", "level", "year", "month", "issued_at", "revoked_at",
    "evidence", "status", "policy_version", "digest",
]  # fmt: skip
COMPLAINT_COLUMNS = [
    "complaint_id", "unit_id", "staff_id", "filing_event_id", "filed_at", "filed_month",
    "channel", "category", "handling", "final_category", "deadline", "deadline_month",
    "resolved_at", "resolved_month", "resolved_late", "outcome", "outcome_at", "outcome_month",
    "verdict_event_id", "responsible_staff_id", "obstructed",
]  # fmt: skip


FACT_COLUMNS = {
    "complaint_filings": ["source", "event_id", "occurred_at", "complaint_id", "unit_id",
                          "staff_id", "channel", "category", "handling"],
    "complaint_verdicts": ["source", "event_id", "occurred_at", "complaint_id", "unit_id",
                           "staff_id", "outcome", "category", "obstructed"],
    "inspections": ["source", "event_id", "occurred_at", "inspection_id", "unit_id", "mode",
                    "finding_count", "month"],
    "findings": ["source", "event_id", "occurred_at", "position", "unit_id", "staff_id", "code",
                 "unit_wide", "month"],
    "commendations": ["source", "event_id", "occurred_at", "commendation_id", "unit_id",
                      "staff_id", "kind", "month"],
    "event_ids": ["source", "event_id", "digest", "recorded_at", "partition", "offset"],
}  # fmt: skip


async def load_csv(
    conn: Connection, schema: str, payloads: dict[str, bytes]
) -> set[tuple[str, str]]:
    """Store the facts and identities of a decoded chunk (CSV in `FACT_COLUMNS` order per
    table; bulk_decode gives each (source, id) once per chunk) of events not seen before:
    the first copy of an event wins. Only the (source, id) pairs seen with different
    contents than a copy already stored come back (rare): `reconcile_conflicts` fixes
    their facts once the load is done.

    Most chunks hold only pairs new to the version: they are COPYed straight into their
    tables, one statement per table. When one of them is there already (a retry that
    crossed a chunk's edge), the primary key of `event_ids` refuses the COPY, and the
    chunk goes the set-based way through staging tables instead."""
    s = checked_schema(schema)
    try:
        async with conn.transaction():  # a savepoint: the refused COPY leaves nothing
            for table in ("event_ids", *FACT_TABLES):  # event_ids first: it refuses repeats
                await _copy(conn, table, s, payloads)
        return set()
    except asyncpg.UniqueViolationError:
        return await load_through_staging(conn, s, payloads)


FACT_TABLES = (
    "complaint_filings", "complaint_verdicts", "inspections", "findings", "commendations",
)  # fmt: skip


async def _copy(conn: Connection, table: str, schema: str, payloads: dict[str, bytes]) -> None:
    if payloads.get(table):
        await conn.copy_to_table(
            table,
            schema_name=schema,
            source=io.BytesIO(payloads[table]),
            columns=FACT_COLUMNS[table],
            format="csv",
        )


async def load_through_staging(
    conn: Connection, schema: str, payloads: dict[str, bytes]
) -> set[tuple[str, str]]:
    """COPY into session staging tables and one set-based insert per table; findings
    are kept only for inspections stored by this very statement, as the incremental
    path does."""
    s = schema
    for table, columns in FACT_COLUMNS.items():
        await conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS stage_{table} "
            f"(LIKE {s}.{table}) ON COMMIT DELETE ROWS"
        )
        if payloads.get(table):
            await conn.copy_to_table(
                f"stage_{table}",
                source=io.BytesIO(payloads[table]),
                columns=columns,
                format="csv",
            )
    conflicts = await conn.fetch(
        f"""SELECT s.source, s.event_id FROM stage_event_ids s
              JOIN {s}.event_ids e USING (source, event_id) WHERE e.digest <> s.digest
            UNION
            SELECT source, event_id FROM stage_event_ids GROUP BY source, event_id
            HAVING count(DISTINCT digest) > 1"""
    )
    await conn.execute(
        f"""INSERT INTO {s}.event_ids
            SELECT DISTINCT ON (source, event_id) * FROM stage_event_ids
            ORDER BY source, event_id, recorded_at, partition, "offset"
            ON CONFLICT (source, event_id) DO UPDATE
               SET digest = excluded.digest, recorded_at = excluded.recorded_at,
                   partition = excluded.partition, "offset" = excluded."offset"
             WHERE (excluded.recorded_at, excluded.partition, excluded."offset")
                 < ({s}.event_ids.recorded_at, {s}.event_ids.partition, {s}.event_ids."offset")"""
    )
    for table in ("complaint_filings", "complaint_verdicts", "commendations"):
        await conn.execute(
            f"INSERT INTO {s}.{table} SELECT * FROM stage_{table} ON CONFLICT DO NOTHING"
        )
    await conn.execute(
        f"""WITH new AS (
                INSERT INTO {s}.inspections SELECT * FROM stage_inspections
                ON CONFLICT DO NOTHING RETURNING source, event_id)
            INSERT INTO {s}.findings SELECT f.* FROM stage_findings f
              JOIN new ON new.source = f.source AND new.event_id = f.event_id
            ON CONFLICT DO NOTHING"""
    )
    return {(r["source"], r["event_id"]) for r in conflicts}


async def drop_secondary_indexes(conn: Connection, schema: str) -> list[Index]:
    """Drop every index but the primary keys; returns them, to be built again."""
    rows = await conn.fetch(
        """SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
           JOIN pg_class c ON c.relname = i.indexname
           JOIN pg_index x ON x.indexrelid = c.oid AND NOT x.indisprimary
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname
           WHERE i.schemaname = $1""",
        checked_schema(schema),
    )
    for row in rows:
        await conn.execute(f"DROP INDEX {schema}.{row['indexname']}")
    return [Index(row["tablename"], row["indexdef"]) for row in rows]


FACT_TABLES_AND_IDS = (*FACT_TABLES, "event_ids")


async def finish_tables(
    conn: Connection, schema: str, indexes: Sequence[Index], *, facts: bool
) -> None:
    """The `indexes` (drop_secondary_indexes') of the version's fact tables (`facts`) or
    of its other tables, then those tables' planner statistics: the
    facts are finished while the results are still being evaluated. Without statistics
    a version built in bulk would go live unanalyzed (autovacuum gathers them only
    later), and the first dashboard requests after a replay took several times longer."""
    s = checked_schema(schema)
    for index in indexes:
        if (index.table in FACT_TABLES_AND_IDS) == facts:
            await conn.execute(index.definition)
    tables = [
        row["tablename"]
        for row in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", s)
        if (row["tablename"] in FACT_TABLES_AND_IDS) == facts
    ]
    if tables:
        await conn.execute("ANALYZE " + ", ".join(f"{s}.{ident(table)}" for table in tables))


# The statement triggers that keep ranking_counts, on each of these tables (migration 006).
COUNTED = ("complaints", "warnings", "alerts")
COUNTING = ("ranking_counts_insert", "ranking_counts_update", "ranking_counts_delete")


async def suspend_counts(conn: Connection, schema: str) -> None:
    """Disable the triggers that keep ranking_counts, for a version being built (nobody
    reads it): each statement of the bulk evaluation would otherwise add its deltas."""
    s = checked_schema(schema)
    async with conn.transaction():
        for table, trigger in itertools.product(COUNTED, COUNTING):
            await conn.execute(f"ALTER TABLE {s}.{table} DISABLE TRIGGER {trigger}")


async def count_results(conn: Connection, schema: str) -> None:
    """ranking_counts from the results as they stand, grouped by month and unit in one
    statement (the counting of migration 006's own first fill), and the triggers enabled
    again, in one transaction. The table is emptied first, so ranking_counts_add's upsert
    and its removal of all-zero rows come down to one grouped INSERT and its HAVING
    (a third of the time: the function unnests an array of every delta, twice)."""
    s = checked_schema(schema)
    async with conn.transaction():
        await conn.execute(f"DELETE FROM {s}.ranking_counts")
        await conn.execute(
            f"""INSERT INTO {s}.ranking_counts
                SELECT month, unit_id, sum(filed), sum(substantiated), sum(warnings),
                       sum(yellow_cards), sum(red_cards)
                  FROM (SELECT filed_month AS month, unit_id, 1 AS filed, 0 AS substantiated,
                               0 AS warnings, 0 AS yellow_cards, 0 AS red_cards
                          FROM {s}.complaints
                        UNION ALL
                        SELECT outcome_month, unit_id, 0, 1, 0, 0, 0
                          FROM {s}.complaints WHERE outcome = 'substantiated'
                        UNION ALL
                        SELECT period, unit_id, 0, 0, 1, 0, 0
                          FROM {s}.warnings WHERE status = 'active'
                        UNION ALL
                        SELECT month, unit_id, 0, 0, 0, (level = 'collective_warning')::integer,
                               (level = 'leadership')::integer
                          FROM {s}.alerts WHERE status = 'active') delta
                 GROUP BY month, unit_id
                HAVING sum(filed) <> 0 OR sum(substantiated) <> 0 OR sum(warnings) <> 0
                    OR sum(yellow_cards) <> 0 OR sum(red_cards) <> 0"""
        )
        for table, trigger in itertools.product(COUNTED, COUNTING):
            await conn.execute(f"ALTER TABLE {s}.{table} ENABLE TRIGGER {trigger}")


def in_part(column: str, part: Part) -> str:
    """A condition: the rows whose `column` falls in `part` (any hash would do; it only
    has to put every key in exactly one part)."""
    if part.count == 1:
        return "TRUE"
    return f"(hashtext({column}) & 2147483647) % {int(part.count)} = {int(part.index)}"


async def _rows(conn: Connection, query: str, *args: Any) -> AsyncIterator[Any]:
    """The rows of a server-side cursor, a page at a time. The next page is asked for
    before this one is handed on: the database produces it while the caller evaluates
    (a plain cursor asks only once its buffer is empty, and the caller waits)."""
    cursor = await conn.cursor(query, *args)
    ask: asyncio.Future[list[Any]] | None = asyncio.ensure_future(cursor.fetch(PREFETCH))
    try:
        while ask is not None:
            page = await ask
            ask = None
            if len(page) == PREFETCH:
                ask = asyncio.ensure_future(cursor.fetch(PREFETCH))
                await asyncio.sleep(0)  # it sends its request before we go on
            for row in page:
                yield row
    finally:
        if ask is not None and not ask.done():  # the caller stopped early
            ask.cancel()


async def complaint_groups(
    conn: Connection, schema: str, part: Part = WHOLE
) -> AsyncIterator[tuple[str, list[ComplaintFiling], list[ComplaintVerdict]]]:
    """Every complaint's filings and verdicts, one complaint at a time."""
    s = checked_schema(schema)
    query = f"""
        SELECT 'f' AS kind, source, event_id, occurred_at, complaint_id, unit_id, staff_id,
               channel, category, handling, NULL AS outcome, NULL::bool AS obstructed
          FROM {s}.complaint_filings WHERE {in_part("complaint_id", part)}
        UNION ALL
        SELECT 'v', source, event_id, occurred_at, complaint_id, unit_id, staff_id,
               NULL, category, NULL, outcome, obstructed
          FROM {s}.complaint_verdicts WHERE {in_part("complaint_id", part)}
        ORDER BY complaint_id"""
    current: str | None = None
    filings: list[ComplaintFiling] = []
    verdicts: list[ComplaintVerdict] = []
    async for r in _rows(conn, query):
        if r["complaint_id"] != current:
            if current is not None:
                yield current, filings, verdicts
            current, filings, verdicts = r["complaint_id"], [], []
        if r["kind"] == "f":
            filings.append(filing_from_row(r))
        else:
            verdicts.append(verdict_from_row(r))
    if current is not None:
        yield current, filings, verdicts


async def staff_month_groups(
    conn: Connection,
    schema: str,
    codes: Collection[FindingCode],
    part: Part = WHOLE,
    more_than: int = 0,
) -> AsyncIterator[tuple[str, str, list[Finding]]]:
    """Findings with these codes naming a staff member, one (staff, month) at a time:
    the (staff, month)s with more than `more_than` of them (a finding is one row, its
    key distinct), the others left in the database."""
    s = checked_schema(schema)
    query = f"""
        SELECT * FROM (
            SELECT f.source, f.event_id, f.occurred_at, f.position, f.unit_id, f.staff_id,
                   f.code, f.unit_wide, f.month, i.inspection_id,
                   count(*) OVER (PARTITION BY f.staff_id, f.month) AS in_month
              FROM {s}.findings f
              JOIN {s}.inspections i ON i.source = f.source AND i.event_id = f.event_id
             WHERE f.staff_id IS NOT NULL AND f.code = ANY($1::text[])
               AND {in_part("f.staff_id", part)}) counted
         WHERE in_month > $2
         ORDER BY staff_id, month"""
    current: tuple[str, str] | None = None
    group: list[Finding] = []
    async for r in _rows(conn, query, [code.value for code in codes], more_than):
        key = (r["staff_id"], r["month"])
        if key != current:
            if current is not None:
                yield current[0], current[1], group
            current, group = key, []
        group.append(finding_from_row(r))
    if current is not None:
        yield current[0], current[1], group


async def single_findings(
    conn: Connection, schema: str, codes: Collection[FindingCode], part: Part = WHOLE
) -> AsyncIterator[Finding]:
    """Findings a rule judges on their own: these codes naming someone, or unit-wide."""
    s = checked_schema(schema)
    query = f"""
        SELECT f.source, f.event_id, f.occurred_at, f.position, f.unit_id, f.staff_id, f.code,
               f.unit_wide, i.inspection_id
          FROM {s}.findings f
          JOIN {s}.inspections i ON i.source = f.source AND i.event_id = f.event_id
         WHERE (f.unit_wide OR (f.staff_id IS NOT NULL AND f.code = ANY($1::text[])))
           AND {in_part("f.unit_id", part)}"""
    async for r in _rows(conn, query, [code.value for code in codes]):
        yield finding_from_row(r)


async def unit_year_groups(
    conn: Connection, schema: str, part: Part = WHOLE
) -> AsyncIterator[tuple[str, int, list[Timed], list[TimedCollective]]]:
    """Each unit-year's individual warnings and event-raised collective warnings, as
    much of them as the timeline reads."""
    s = checked_schema(schema)
    query = f"""
        SELECT 'w' AS kind, id, unit_id, year, issued_at, revoked_at, status, NULL AS rule
          FROM {s}.warnings WHERE {in_part("unit_id", part)}
        UNION ALL
        SELECT 'a', id, unit_id, year, issued_at, revoked_at, status, rule
          FROM {s}.alerts WHERE rule IN ('obstruction', 'unit_wide_violation')
           AND {in_part("unit_id", part)}
        ORDER BY unit_id, year"""
    current: tuple[str, int] | None = None
    warnings: list[Timed] = []
    collectives: list[TimedCollective] = []
    async for r in _rows(conn, query):
        key = (r["unit_id"], r["year"])
        if key != current:
            if current is not None:
                yield current[0], current[1], warnings, collectives
            current, warnings, collectives = key, [], []
        if r["kind"] == "w":
            warnings.append(timed_from_row(r))
        else:
            collectives.append(collective_from_row(r))
    if current is not None:
        yield current[0], current[1], warnings, collectives


class CopyWriter:
    """Buffers results and writes them with binary COPY."""

    def __init__(
        self, conn: Connection, schema: str, tz: ZoneInfo, *, flush_at: int = 5000
    ) -> None:
        self._conn = conn
        self._schema = checked_schema(schema)
        self._tz = tz
        self._flush_at = flush_at
        self._rows: dict[str, list[tuple[Any, ...]]] = {
            "complaints": [],
            "warnings": [],
            "alerts": [],
        }

    # A row is only appended; the coroutine awaits when a table's buffer is full.
    async def complaint(self, state: ComplaintState) -> None:
        if self._add("complaints", complaint_row(state)):
            await self._flush("complaints")

    async def warning(self, warning: Warning) -> None:
        if self._add("warnings", warning_row(warning)):
            await self._flush("warnings")

    async def alert(self, alert: Alert) -> None:
        if self._add("alerts", alert_row(alert, self._tz)):
            await self._flush("alerts")

    def _add(self, table: str, row: tuple[Any, ...]) -> bool:
        """Buffers the row; whether the table's buffer is full."""
        rows = self._rows[table]
        rows.append(row)
        return len(rows) >= self._flush_at

    async def flush(self) -> None:
        for table in self._rows:
            await self._flush(table)

    async def _flush(self, table: str) -> None:
        rows = self._rows[table]
        if not rows:
            return
        columns = {
            "complaints": COMPLAINT_COLUMNS,
            "warnings": WARNING_COLUMNS,
            "alerts": ALERT_COLUMNS,
        }[table]
        await self._conn.copy_records_to_table(
            table, records=rows, columns=columns, schema_name=self._schema
        )
        self._rows[table] = []
