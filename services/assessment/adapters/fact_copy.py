"""Set-based SQL for `rerule`: a new version's facts copied from another version's, or
shared with it through an exported snapshot (a what-if).

The facts of a version do not depend on its policy, but for the months of inspections,
findings and commendations (in the policy's time zone): copied as they are when the
zone is the same, computed anew by PostgreSQL otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from services.assessment.adapters.bulk_store import FACT_COLUMNS
from services.assessment.adapters.db import Connection
from services.assessment.adapters.schema import checked_schema, ident


def _select_list(columns: list[str], *, months_in_zone: bool) -> str:
    return ", ".join(
        "to_char(occurred_at AT TIME ZONE $1, 'YYYY-MM')"
        if column == "month" and months_in_zone
        else f'"{column}"'
        for column in columns
    )


async def copy_facts(conn: Connection, source: str, target: str, *, time_zone: str | None) -> int:
    """Every fact, event identity and position of `source` into the empty `target`, from
    one snapshot of `source` (the live fold commits facts and positions together, so the
    copy is a state the live version was in; the catch-up continues from its positions).
    The primary keys are built once the rows are in (measured on 1M events: a million
    inserts into event_ids took 8.4 s with its key, 2.5 s without and 2.7 s to build it)."""
    s, t = checked_schema(source), checked_schema(target)
    keys = await _drop_primary_keys(conn, t, FACT_COLUMNS)
    async with conn.transaction(isolation="repeatable_read"):
        for table, columns in FACT_COLUMNS.items():
            recompute = time_zone is not None and "month" in columns
            names = ", ".join(f'"{column}"' for column in columns)
            await conn.execute(
                f"INSERT INTO {t}.{table} ({names}) "
                f"SELECT {_select_list(columns, months_in_zone=recompute)} FROM {s}.{table}",
                *([time_zone] if recompute else []),
            )
        await conn.execute(
            f'INSERT INTO {t}.positions (topic, partition, "offset") '
            f'SELECT topic, partition, "offset" FROM {s}.positions'
        )
        events: int = await conn.fetchval(f"SELECT count(*) FROM {t}.event_ids")
    for statement in keys:
        await conn.execute(statement)
    return events


async def _drop_primary_keys(conn: Connection, schema: str, tables: Collection[str]) -> list[str]:
    """Drop these tables' primary keys; returns the statements that add them back."""
    rows = await conn.fetch(
        """SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS definition
             FROM pg_constraint k
             JOIN pg_class c ON c.oid = k.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND k.contype = 'p' AND c.relname = ANY($2::text[])""",
        schema,
        list(tables),
    )
    for row in rows:
        await conn.execute(
            f"ALTER TABLE {schema}.{ident(row['table'])} DROP CONSTRAINT {ident(row['name'])}"
        )
    return [
        f"ALTER TABLE {schema}.{ident(row['table'])} ADD CONSTRAINT {ident(row['name'])} "
        f"{row['definition']}"
        for row in rows
    ]


# pg_export_snapshot()'s ids, e.g. 00000003-0000001B-1: checked before SET TRANSACTION
# SNAPSHOT, which takes a literal, not a parameter.
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


async def export_snapshot(
    conn: Connection, source: str
) -> tuple[str, int, dict[str, dict[int, int]]]:
    """Inside the caller's REPEATABLE READ transaction on `conn`: its snapshot, exported
    (other sessions can read in it while the transaction lasts), the number of events
    `source` holds in it and the positions `source` had reached there, per topic."""
    s = checked_schema(source)
    snapshot: str = await conn.fetchval("SELECT pg_export_snapshot()")
    events: int = await conn.fetchval(f"SELECT count(*) FROM {s}.event_ids")
    positions: dict[str, dict[int, int]] = {}
    for r in await conn.fetch(f'SELECT topic, partition, "offset" FROM {s}.positions'):
        positions.setdefault(r["topic"], {})[r["partition"]] = r["offset"]
    return snapshot, events, positions


async def use_snapshot(conn: Connection, snapshot: str) -> None:
    """The first statement of a REPEATABLE READ transaction: it sees what the exporting
    transaction saw."""
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    await conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
