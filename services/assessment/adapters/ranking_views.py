"""The units' ranking (for the managers' dashboard): per unit and period, complaints,
active warnings and active unit alerts — yellow cards (collective warnings) and red
cards (leadership accountability).

The figures count exactly what the monthly stats count (stats_views.py): complaints by
filing month, substantiated ones by verdict month, active warnings by period, alerts by
their month; so a unit's ranking row equals the sum of its monthly figures.
"""

from __future__ import annotations

from typing import Any

from services.assessment.adapters.read_model import Snapshot

RANKING_FIELDS = (
    "complaints_filed",
    "complaints_substantiated",
    "warnings",
    "yellow_cards",
    "red_cards",
)


async def unit_ranking(snap: Snapshot, *, first: str, last: str) -> list[dict[str, Any]]:
    """Every unit with anything in the months `first`..`last`, most accountability first:
    red cards, yellow cards, warnings, substantiated complaints, complaints filed. Read
    from ranking_counts (migration 006), which the database keeps per month and unit."""
    rows = await snap.conn.fetch(
        f"""
        SELECT unit_id, sum(filed)::int AS complaints_filed,
               sum(substantiated)::int AS complaints_substantiated,
               sum(warnings)::int AS warnings, sum(yellow_cards)::int AS yellow_cards,
               sum(red_cards)::int AS red_cards
          FROM {snap.schema}.ranking_counts
         WHERE month BETWEEN $1 AND $2
         GROUP BY unit_id
         ORDER BY red_cards DESC, yellow_cards DESC, warnings DESC,
                  complaints_substantiated DESC, complaints_filed DESC, unit_id
        """,
        first,
        last,
    )
    return [dict(r) for r in rows]


async def has_complaints(snap: Snapshot, unit_id: str) -> bool:
    found = await snap.conn.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM {snap.schema}.complaints WHERE unit_id = $1)", unit_id
    )
    return bool(found)


async def units_under(snap: Snapshot, prefix: str) -> list[str]:
    """The units whose id is `prefix` or starts with `prefix/` and that have complaints
    (an organisation's units, e.g. `taxi-co` -> `taxi-co/fleet-1`, …). A loose index scan
    over complaints_by_unit_filed: one index probe per distinct unit."""
    rows = await snap.conn.fetch(
        f"""
        WITH RECURSIVE unit AS (
            (SELECT unit_id FROM {snap.schema}.complaints ORDER BY unit_id LIMIT 1)
            UNION ALL
            SELECT (SELECT c.unit_id FROM {snap.schema}.complaints c
                     WHERE c.unit_id > unit.unit_id ORDER BY c.unit_id LIMIT 1)
              FROM unit WHERE unit.unit_id IS NOT NULL
        )
        SELECT unit_id FROM unit
         WHERE unit_id = $1 OR starts_with(unit_id, $1 || '/')
        """,
        prefix,
    )
    return [r["unit_id"] for r in rows]
