"""The real PostgreSQL server answers asyncpg with the types the projections use."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

pytestmark = pytest.mark.integration


async def test_asyncpg_round_trip(scratch_database_url: str) -> None:
    conn = await asyncpg.connect(scratch_database_url)
    try:
        await conn.execute(
            "CREATE TABLE t (id text PRIMARY KEY, at timestamptz NOT NULL, tags text[] NOT NULL)"
        )
        at = datetime(2026, 1, 31, 17, 30, tzinfo=UTC)
        await conn.copy_records_to_table(
            "t", records=[("a", at, ["x", "优"]), ("b", at, [])], columns=["id", "at", "tags"]
        )
        rows = await conn.fetch("SELECT id, at, tags FROM t ORDER BY id")
        server_version = conn.get_server_version()
    finally:
        await conn.close()
    assert [tuple(row) for row in rows] == [("a", at, ["x", "优"]), ("b", at, [])]
    assert server_version.major >= 14
