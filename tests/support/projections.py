"""Reads a whole projection version back as domain objects, to compare versions and
compare with the pure oracle."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.assessment.adapters.db import Connection
from services.assessment.adapters.projection_rows import alert_from_row, warning_from_row
from services.assessment.adapters.schema import checked_schema
from services.assessment.adapters.versions import event_count
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
