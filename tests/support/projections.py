"""Reads a whole projection version back (as domain objects, or every table's rows), to
compare versions and compare with the pure oracle; creates versions to fold into."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.assessment.adapters import versions
from services.assessment.adapters.db import Connection
from services.assessment.adapters.projection_rows import alert_from_row, warning_from_row
from services.assessment.adapters.schema import checked_schema, migrate_control, migrate_projection
from services.assessment.adapters.versions import event_count
from services.assessment.domain.policy import Policy
from services.assessment.domain.results import Alert, ComplaintState, Warning
from shared.catalogue import Category, Channel, Handling, Outcome


@dataclass(frozen=True)
class Projection:
    warnings: list[Warning]
    alerts: list[Alert]
    complaints: list[ComplaintState]
    events: int

    def rows(self) -> tuple[list[Warning], list[Alert], list[ComplaintState]]:
        return self.warnings, self.alerts, self.complaints


def complaint_from_row(r: asyncpg.Record) -> ComplaintState:
    row = dict(r)
    return ComplaintState(
        **{
            **row,
            "channel": Channel(row["channel"]),
            "category": Category(row["category"]),
            "final_category": Category(row["final_category"]),
            "handling": Handling(row["handling"]),
            "outcome": Outcome(row["outcome"]) if row["outcome"] else None,
        }
    )


async def read_projection(conn: Connection, schema: str) -> Projection:
    s = checked_schema(schema)
    warnings = [
        warning_from_row(r) for r in await conn.fetch(f"SELECT * FROM {s}.warnings ORDER BY id")
    ]
    alerts = [alert_from_row(r) for r in await conn.fetch(f"SELECT * FROM {s}.alerts ORDER BY id")]
    complaints = [
        complaint_from_row(r)
        for r in await conn.fetch(f"SELECT * FROM {s}.complaints ORDER BY complaint_id")
    ]
    events = await event_count(conn, s)
    return Projection(warnings, alerts, complaints, events)


async def live_schema(conn: Connection) -> str:
    schema: str = await conn.fetchval(
        "SELECT schema_name FROM assessment.versions WHERE state = 'live'"
    )
    return schema


async def ranking_counts(conn: Connection, schema: str) -> tuple[list[tuple[object, ...]], ...]:
    """The ranking's counts as the database keeps them (migration 006), and as counted
    afresh from the rows they are kept from: the two must be equal."""
    s = checked_schema(schema)
    kept = await conn.fetch(
        f"""SELECT month, unit_id, filed, substantiated, warnings, yellow_cards, red_cards
              FROM {s}.ranking_counts ORDER BY month, unit_id"""
    )
    counted = await conn.fetch(
        f"""SELECT month, unit_id, sum(filed)::int, sum(substantiated)::int,
                   sum(warnings)::int, sum(yellow)::int, sum(red)::int
              FROM (SELECT filed_month AS month, unit_id, 1 AS filed, 0 AS substantiated,
                           0 AS warnings, 0 AS yellow, 0 AS red
                      FROM {s}.complaints
                    UNION ALL
                    SELECT outcome_month, unit_id, 0, 1, 0, 0, 0
                      FROM {s}.complaints WHERE outcome = 'substantiated'
                    UNION ALL
                    SELECT period, unit_id, 0, 0, 1, 0, 0
                      FROM {s}.warnings WHERE status = 'active'
                    UNION ALL
                    SELECT month, unit_id, 0, 0, 0, (level = 'collective_warning')::int,
                           (level = 'leadership')::int
                      FROM {s}.alerts WHERE status = 'active') AS counted
             GROUP BY month, unit_id ORDER BY month, unit_id"""
    )
    return [tuple(r) for r in kept], [tuple(r) for r in counted]


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def projection_at(url: str, schema: str) -> Projection:
    async with connected(url) as conn:
        return await read_projection(conn, schema)


async def live_projection(url: str) -> Projection:
    async with connected(url) as conn:
        return await read_projection(conn, await live_schema(conn))


async def version_tables(url: str, version: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a version, every column, in a stable order: facts, event ids,
    positions, complaints, warnings, alerts, the ranking's counts (two versions that
    hold the same results compare equal)."""
    schema = f"proj_v{version}"
    async with connected(url) as conn:
        names = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", schema
            )
        ]
        return {
            name: sorted(tuple(r) for r in await conn.fetch(f"SELECT * FROM {schema}.{name}"))
            for name in names
        }


# What the rules write (the rest of a version's tables are its facts and positions).
RESULT_TABLES = ("complaints", "warnings", "alerts", "ranking_counts")


def results_of(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {name: rows for name, rows in tables.items() if name in RESULT_TABLES}


def facts_of(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The fact tables and event ids (not the positions)."""
    return {
        name: rows
        for name, rows in tables.items()
        if name not in RESULT_TABLES and name != "positions"
    }


async def versions_table(url: str) -> list[tuple[int, str, str]]:
    """(version, state, schema) of every projection version, in order."""
    async with connected(url) as conn:
        rows = await conn.fetch(
            "SELECT version, state, schema_name FROM assessment.versions ORDER BY version"
        )
    return [(r["version"], r["state"], r["schema_name"]) for r in rows]


async def version_states(url: str) -> list[tuple[int, str]]:
    """(version, state) of every projection version, in order."""
    return [(version, state) for version, state, _ in await versions_table(url)]


async def folded_so_far(url: str) -> int:
    """How many records of events.v1 the live version has folded (its positions)."""
    async with connected(url) as conn:
        schema = await live_schema(conn)
        total: int = await conn.fetchval(
            f'SELECT coalesce(sum("offset" + 1), 0) FROM {schema}.positions'
        )
        return total


async def migrated_version(conn: Connection, *, policy: Policy, state: str) -> versions.Version:
    """A new version (the control schema migrated first), its projection schema migrated."""
    await migrate_control(conn)
    version = await versions.create_version(conn, policy=policy, state=state)
    await migrate_projection(conn, version.schema_name)
    return version
