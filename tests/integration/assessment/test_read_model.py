"""Read snapshots on the real database: one asked for inside another, in the same task,
is that one (a dashboard page reads all it shows in one transaction); another task gets
its own (two tasks never share a connection)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from services.assessment.adapters import versions
from services.assessment.adapters.read_model import ReadModel, Snapshot
from services.assessment.adapters.schema import migrate_control, migrate_projection
from services.assessment.domain.policy import load_default_policy

pytestmark = pytest.mark.integration


async def backend_and_transaction(snap: Snapshot) -> tuple[int, str]:
    """The connection's server process and its transaction's (virtual) id."""
    row = await snap.conn.fetchrow(
        """SELECT pid, virtualxid FROM pg_locks
            WHERE pid = pg_backend_pid() AND locktype = 'virtualxid'"""
    )
    assert row is not None
    return row["pid"], row["virtualxid"]


async def test_a_nested_snapshot_is_the_outer_one_and_another_task_gets_its_own(
    scratch_database_url: str,
) -> None:
    pool = await asyncpg.create_pool(scratch_database_url, min_size=1, max_size=3)
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            await migrate_control(conn)
            live = await versions.create_version(
                conn, policy=load_default_policy(), state="live", note="test"
            )
            await migrate_projection(conn, live.schema_name)
        read_model = ReadModel(pool)

        async def in_own_snapshot() -> tuple[int, str]:
            async with read_model.snapshot() as snap:
                return await backend_and_transaction(snap)

        async with read_model.snapshot() as outer:
            seen = await backend_and_transaction(outer)
            async with read_model.snapshot() as inner:
                assert inner is outer
                assert await backend_and_transaction(inner) == seen
            assert await in_own_snapshot() == seen
            other_task = await asyncio.create_task(in_own_snapshot())
            assert other_task[0] != seen[0]
        after = await in_own_snapshot()  # the outer one is closed: a new transaction
        assert after[1] != seen[1]
    finally:
        await pool.close()
