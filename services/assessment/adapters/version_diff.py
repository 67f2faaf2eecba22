"""What a rebuilt version changes compared with the live one (ids are deterministic,
so rows of the two versions pair up by id)."""

from __future__ import annotations

from services.assessment.adapters.db import Connection
from services.assessment.adapters.schema import checked_schema
from services.assessment.service_layer.rebuild_ports import TableDiff


async def diff_table(conn: Connection, *, table: str, old: str, new: str) -> TableDiff:
    if table not in {"warnings", "alerts"}:
        raise ValueError(f"cannot diff {table}")
    old, new = checked_schema(old), checked_schema(new)
    row = await conn.fetchrow(
        f"""SELECT
              count(*) FILTER (WHERE o.status = 'active') AS active_before,
              count(*) FILTER (WHERE n.status = 'active') AS active_after,
              count(*) FILTER (WHERE n.status = 'active' AND o.status IS DISTINCT FROM 'active')
                AS added,
              count(*) FILTER (WHERE o.status = 'active' AND n.status IS DISTINCT FROM 'active')
                AS revoked,
              count(*) FILTER (WHERE o.id IS NOT NULL AND n.id IS NOT NULL AND o.rule <> n.rule)
                AS rule_changed
            FROM {old}.{table} o FULL JOIN {new}.{table} n ON n.id = o.id"""
    )
    assert row is not None
    return TableDiff(**dict(row))
