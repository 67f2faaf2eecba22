"""CPU per scope of the rebuild's phase 2 (not a test, a measurement).

Phase 2 of `assessment replay` / `assessment rerule` reads facts back ordered by scope
(adapters/bulk_store.py's group readers), evaluates each scope with the pure rules and
buffers the results' rows for COPY (`bulk_store.CopyWriter`). This runs those very
functions in one process, without a database: a generated history (bench/generator.py)
is turned into the rows PostgreSQL would hand back (`fact_rows`; dicts for asyncpg's
Records, instants in UTC as asyncpg returns them), served by a fake connection to the
group readers. Timed runs drop the CopyWriter's rows (a worker keeps no more than a
buffer); one more run keeps them, for the unit-years' input and for digests of every
row written (the same history must give the same digests before and after a change:
"exact" compares reprs, zones included; "stored" the values PostgreSQL keeps).
Prints µs per scope of each step (single findings: per finding), in CPU seconds of this
process (time.process_time), best of `--repeat`. Not timed: PostgreSQL's side and
asyncpg's binary encoding (bench/whatif.py runs the what-if end to end).

    .venv/bin/python -m bench.evaluate_profile --events 200000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from bench.generator import Generator, units_for
from services.assessment.adapters import bulk_store
from services.assessment.adapters.projection_rows import (
    alert_row,
    complaint_row,
    fact_rows,
    warning_row,
)
from services.assessment.domain.complaints import evaluate_complaint
from services.assessment.domain.event_facts import facts_from_events
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict
from services.assessment.domain.inspections import (
    evaluate_absence,
    evaluate_attendance,
    evaluate_unit_wide,
)
from services.assessment.domain.policy import Policy, load_default_policy
from services.assessment.domain.records import decode_value_fast
from services.assessment.domain.results import ComplaintOutcome
from services.assessment.domain.unit_alerts import evaluate_unit_year
from shared.runtime import tune_garbage_collector

SCHEMA = "proj_v1"
Row = dict[str, Any]
ComplaintGroup = tuple[str, list[ComplaintFiling], list[ComplaintVerdict]]
Step = Callable[["FakeConnection", Policy], Coroutine[Any, Any, int]]


class _Cursor:
    def __init__(self, rows: list[Row]) -> None:
        self._rows = rows
        self._at = 0

    async def fetch(self, n: int) -> list[Row]:
        page = self._rows[self._at : self._at + n]
        self._at += n
        return page


class FakeConnection:
    """What the group readers and the CopyWriter use of an asyncpg connection: the rows
    of each reader's query (told apart by the table it names), and COPY into lists
    (`keep`) or nowhere (timed runs: a worker keeps no more than a buffer of rows)."""

    def __init__(self, tables: dict[str, list[Row]], *, keep: bool = False) -> None:
        self.tables = tables
        self.keep = keep
        self.copied: dict[str, list[tuple[Any, ...]]] = {}

    async def cursor(self, query: str, *args: Any) -> _Cursor:
        if "complaint_filings" in query:
            return _Cursor(self.tables["complaints"])
        if "PARTITION BY f.staff_id, f.month" in query:
            more_than = args[1]  # the database keeps back the groups within the limit
            return _Cursor([r for r in self.tables["staff_months"] if r["in_month"] > more_than])
        if "f.unit_wide OR" in query:
            return _Cursor(self.tables["singles"])
        if "FROM proj_v1.warnings" in query:
            return _Cursor(self.tables["unit_years"])
        raise ValueError(f"no rows for {query}")

    async def copy_records_to_table(self, table: str, *, records: Any, **_: Any) -> None:
        if self.keep:
            self.copied.setdefault(table, []).extend(records)


def history_rows(events: int, policy: Policy) -> dict[str, list[Row]]:
    """The fact tables' rows as the readers' queries return them, in their order."""
    values = [
        orjson.dumps({**event, "recorded_at": "2026-11-01T00:00:00Z"})
        for event in Generator(seed=2026, units=units_for(events)).events(events)
    ]
    decoded = [decode_value_fast(value, "1") for value in values]
    facts = facts_from_events(e for e in decoded if not isinstance(e, tuple))
    tables = fact_rows(facts, policy.tz)
    columns = bulk_store.FACT_COLUMNS

    def rows(table: str) -> list[Row]:
        return [_utc(dict(zip(columns[table], row, strict=True))) for row in tables[table]]

    filings = [
        {"kind": "f", **r, "outcome": None, "obstructed": None} for r in rows("complaint_filings")
    ]
    verdicts = [
        {"kind": "v", **r, "channel": None, "handling": None} for r in rows("complaint_verdicts")
    ]
    inspection_of = {(r["source"], r["event_id"]): r["inspection_id"] for r in rows("inspections")}
    findings = [
        {**r, "inspection_id": inspection_of[(r["source"], r["event_id"])]}
        for r in rows("findings")
    ]
    # What each reader's WHERE keeps (the database filters before this process reads).
    attendance, absence = policy.attendance.codes, policy.absence.codes
    named = [r for r in findings if r["staff_id"] is not None]
    staff_months = sorted(
        (r for r in named if r["code"] in attendance), key=lambda r: (r["staff_id"], r["month"])
    )
    in_month = Counter((r["staff_id"], r["month"]) for r in staff_months)
    return {
        "complaints": sorted(filings + verdicts, key=lambda r: r["complaint_id"]),
        "staff_months": [
            {**r, "in_month": in_month[(r["staff_id"], r["month"])]} for r in staff_months
        ],
        "singles": [
            r
            for r in findings
            if r["unit_wide"] or (r["staff_id"] is not None and r["code"] in absence)
        ],
    }


def _utc(row: Row) -> Row:
    row["occurred_at"] = row["occurred_at"].astimezone(UTC)  # as asyncpg returns timestamptz
    return row


def unit_year_rows(copied: dict[str, list[tuple[Any, ...]]]) -> list[Row]:
    """What `unit_year_groups` reads back of the first stage's warnings and alerts."""
    w_at = {name: i for i, name in enumerate(bulk_store.WARNING_COLUMNS)}
    a_at = {name: i for i, name in enumerate(bulk_store.ALERT_COLUMNS)}
    rows: list[Row] = []
    for kind, at, table in (("w", w_at, "warnings"), ("a", a_at, "alerts")):
        for row in copied.get(table, []):
            if kind == "a" and row[a_at["rule"]] not in ("obstruction", "unit_wide_violation"):
                continue
            rows.append(
                {
                    "kind": kind,
                    **{c: row[at[c]] for c in ("id", "unit_id", "year", "issued_at", "revoked_at")},
                    "status": row[at["status"]],
                    "rule": row[at["rule"]] if kind == "a" else None,
                }
            )
    return sorted(rows, key=lambda r: (r["unit_id"], r["year"]))


async def _complaints_read(conn: FakeConnection, policy: Policy) -> int:
    n = 0
    async for _ in bulk_store.complaint_groups(conn, SCHEMA):  # type: ignore[arg-type]
        n += 1
    return n


async def _complaints_all(conn: FakeConnection, policy: Policy) -> int:
    out = bulk_store.CopyWriter(conn, SCHEMA, policy.tz)  # type: ignore[arg-type]
    n = 0
    async for cid, filings, verdicts in bulk_store.complaint_groups(conn, SCHEMA):  # type: ignore[arg-type]
        outcome = evaluate_complaint(cid, filings, verdicts, policy)
        if outcome.state is not None:
            await out.complaint(outcome.state)
        for warning in outcome.warnings:
            await out.warning(warning)
        for alert in outcome.alerts:
            await out.alert(alert)
        n += 1
    await out.flush()
    return n


async def _staff_months(conn: FakeConnection, policy: Policy) -> int:
    out = bulk_store.CopyWriter(conn, SCHEMA, policy.tz)  # type: ignore[arg-type]
    n = 0
    groups = bulk_store.staff_month_groups(conn, SCHEMA, policy.attendance.codes)  # type: ignore[arg-type]
    async for staff_id, month, findings in groups:
        if attendance := evaluate_attendance(staff_id, month, findings, policy):
            await out.warning(attendance)
        n += 1
    await out.flush()
    return n


async def _singles(conn: FakeConnection, policy: Policy) -> int:
    out = bulk_store.CopyWriter(conn, SCHEMA, policy.tz)  # type: ignore[arg-type]
    n = 0
    async for finding in bulk_store.single_findings(conn, SCHEMA, policy.absence.codes):  # type: ignore[arg-type]
        if absence := evaluate_absence(finding, policy):
            await out.warning(absence)
        if unit_wide := evaluate_unit_wide(finding, policy):
            await out.alert(unit_wide)
        n += 1
    await out.flush()
    return n


async def _unit_years(conn: FakeConnection, policy: Policy) -> int:
    out = bulk_store.CopyWriter(conn, SCHEMA, policy.tz)  # type: ignore[arg-type]
    n = 0
    async for unit_id, year, warnings, collectives in bulk_store.unit_year_groups(conn, SCHEMA):  # type: ignore[arg-type]
        for alert in evaluate_unit_year(unit_id, year, warnings, collectives, policy):
            await out.alert(alert)
        n += 1
    await out.flush()
    return n


def _timed(work: Callable[[], int]) -> tuple[float, int]:
    gc.collect()  # each run starts with what the previous one left collected
    started = time.process_time()
    n = work()
    return time.process_time() - started, n


def _run(step: Step, conn: FakeConnection, policy: Policy) -> tuple[float, int]:
    return _timed(lambda: asyncio.run(step(conn, policy)))


def best(repeat: int, run: Callable[[], tuple[float, int]]) -> tuple[float, int]:
    results = [run() for _ in range(repeat)]
    return min(seconds for seconds, _ in results), results[0][1]


def digests(copied: dict[str, list[tuple[Any, ...]]]) -> dict[str, str]:
    """Of every row per table, in the order written: exact (repr, zones included) and as
    PostgreSQL stores them (instants as UTC timestamps)."""
    out = {}
    for table, rows in sorted(copied.items()):
        exact = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
        stored = hashlib.sha256(repr([_stored(r) for r in rows]).encode()).hexdigest()[:16]
        out[table] = f"{len(rows)} rows exact {exact} stored {stored}"
    return out


def _stored(row: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v for v in row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    policy = load_default_policy()
    tables = history_rows(args.events, policy)
    tune_garbage_collector()

    figures: dict[str, dict[str, float]] = {}
    copied: dict[str, list[tuple[Any, ...]]] = {}

    def record(name: str, seconds: float, n: int) -> None:
        figures[name] = {"scopes": n, "us_per_scope": seconds / max(n, 1) * 1e6, "seconds": seconds}

    def step(name: str, work: Step) -> None:
        record(name, *best(args.repeat, lambda: _run(work, FakeConnection(tables), policy)))
        kept = FakeConnection(tables, keep=True)  # once more, for the rows it writes
        asyncio.run(work(kept, policy))
        for table, rows in kept.copied.items():
            copied.setdefault(table, []).extend(rows)

    step("complaints: read", _complaints_read)
    rules, rows = _rules_and_rows(tables, policy, args.repeat)
    record("complaints: rules", *rules)
    record("complaints: rows", *rows)
    step("complaints: all", _complaints_all)
    step("staff-months: all", _staff_months)
    step("single findings: all", _singles)
    tables["unit_years"] = unit_year_rows(copied)
    step("unit-years: all", _unit_years)

    print(f"{'step':<30}{'scopes':>10}{'µs/scope':>12}{'CPU s':>10}")
    for name, f in figures.items():
        print(f"{name:<30}{f['scopes']:>10.0f}{f['us_per_scope']:>12.2f}{f['seconds']:>10.3f}")
    total = sum(f["seconds"] for name, f in figures.items() if name.endswith("all"))
    print(f"{'phase 2 in process (all)':<30}{'':>10}{'':>12}{total:>10.3f}")
    for table, text in digests(copied).items():
        print(f"{table:<12}{text}")
    print(json.dumps({"events": args.events, "figures": figures, "digests": digests(copied)}))


def _rows_of(outcomes: list[ComplaintOutcome], policy: Policy) -> int:
    tz = policy.tz
    for outcome in outcomes:
        if outcome.state is not None:
            complaint_row(outcome.state)
        for warning in outcome.warnings:
            warning_row(warning)
        for alert in outcome.alerts:
            alert_row(alert, tz)
    return len(outcomes)


def _rules_and_rows(
    tables: dict[str, list[Row]], policy: Policy, repeat: int
) -> tuple[tuple[float, int], tuple[float, int]]:
    """The rules and the row builders apart, on groups and outcomes built beforehand."""
    groups: list[ComplaintGroup] = asyncio.run(
        _collect(bulk_store.complaint_groups(FakeConnection(tables), SCHEMA))  # type: ignore[arg-type]
    )
    rules = best(repeat, lambda: _timed(lambda: _rules(groups, policy)))
    outcomes = [evaluate_complaint(*group, policy) for group in groups]
    return rules, best(repeat, lambda: _timed(lambda: _rows_of(outcomes, policy)))


def _rules(groups: list[ComplaintGroup], policy: Policy) -> int:
    for group in groups:
        evaluate_complaint(*group, policy)
    return len(groups)


async def _collect(groups: AsyncIterator[ComplaintGroup]) -> list[ComplaintGroup]:
    return [g async for g in groups]


if __name__ == "__main__":
    main()
