"""PostgreSQL behind the rebuild's ports (service_layer/rebuild_ports.py): sessions on
the pool, the switch transaction, the bulk load of decoded facts and the evaluation's
streams, over the modules that own the SQL (versions, bulk_store, feed, version_diff).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg

from services.assessment.adapters import bulk_store, fact_copy, feed, versions
from services.assessment.adapters.db import Connection
from services.assessment.adapters.rebuild_lock import RebuildLock, held_by
from services.assessment.adapters.scope_store import PgEvaluation, PgScopeFacts
from services.assessment.adapters.version_diff import diff_table
from services.assessment.adapters.writer import ProjectionWriter, WriteTx
from services.assessment.domain.changes import Change, Result
from services.assessment.domain.identity import Key
from services.assessment.domain.policy import Policy
from services.assessment.service_layer.rebuild_ports import (
    WHOLE,
    FactSnapshot,
    Index,
    Part,
    SharedFacts,
    TableDiff,
    Version,
)


class PgRebuildSession(versions.Catalogue):
    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self._conn = conn

    async def drop_secondary_indexes(self, version: Version) -> list[Index]:
        return await bulk_store.drop_secondary_indexes(self._conn, version.schema_name)

    async def finish_tables(
        self, version: Version, indexes: Sequence[Index], *, facts: bool
    ) -> None:
        await bulk_store.finish_tables(self._conn, version.schema_name, indexes, facts=facts)

    async def suspend_counts(self, version: Version) -> None:
        await bulk_store.suspend_counts(self._conn, version.schema_name)

    async def count_results(self, version: Version) -> None:
        await bulk_store.count_results(self._conn, version.schema_name)

    async def diff_table(self, table: str, *, old: Version, new: Version) -> TableDiff:
        return await diff_table(self._conn, table=table, old=old.schema_name, new=new.schema_name)

    async def policy_of(self, version: Version) -> Policy:
        return await versions.load_policy(self._conn, version.version)

    async def copy_facts(self, source: Version, target: Version, *, time_zone: str | None) -> int:
        return await fact_copy.copy_facts(
            self._conn, source.schema_name, target.schema_name, time_zone=time_zone
        )


class PgSwitchTransaction(versions.Catalogue):
    def __init__(self, conn: Connection, writer: ProjectionWriter) -> None:
        super().__init__(conn)
        self._conn = conn
        self._writer = writer

    async def rebuild_lock_held_by(self, holder: int) -> bool:
        return await held_by(self._conn, holder)

    async def lock_writer(self, version: Version) -> None:
        await versions.lock_writer(self._conn, version.version)

    @asynccontextmanager
    async def fold_into(self, version: Version) -> AsyncIterator[WriteTx]:
        async with self._writer.version(version, conn=self._conn) as tx:
            yield tx

    async def differing_results(
        self, old: Version | None, new: Version
    ) -> tuple[list[Result], list[Result]]:
        return await feed.differing_results(
            self._conn, old.schema_name if old is not None else None, new.schema_name
        )

    async def publish_changes(
        self, changes: Sequence[Change], *, topic: str, projection_version: int
    ) -> int:
        return await feed.publish_changes(
            self._conn, changes, topic=topic, projection_version=projection_version
        )

    async def switch_live(self, version: Version) -> None:
        await versions.switch_live(self._conn, to_version=version.version)


class PgRebuildStore:
    """The port `RebuildStore` on a pool; the lock on a connection of its own
    (`lock_url`: the owner's, who may drop the builds a crash left behind)."""

    def __init__(self, pool: asyncpg.Pool, *, lock_url: str) -> None:
        self._pool = pool
        self._lock_url = lock_url
        self.writer = ProjectionWriter(pool)
        self._evaluation = PgEvaluation(pool)

    async def take_lock(self) -> RebuildLock | None:
        return await RebuildLock.try_take(self._lock_url)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[PgRebuildSession]:
        async with self._pool.acquire() as conn:
            yield PgRebuildSession(conn)

    @asynccontextmanager
    async def switch_transaction(self) -> AsyncIterator[PgSwitchTransaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield PgSwitchTransaction(conn, self.writer)

    async def load_facts(
        self,
        version: Version,
        payloads: dict[str, bytes],
        positions: dict[str, dict[int, int]],
    ) -> set[Key]:
        async with self.writer.version(version) as tx:
            conflicts = await bulk_store.load_csv(tx.conn, version.schema_name, payloads)
            for topic, highest in positions.items():
                await tx.save_positions(topic, highest)
        return conflicts

    def evaluation(
        self,
        version: Version,
        policy: Policy,
        part: Part = WHOLE,
        shared: FactSnapshot | None = None,
    ) -> AbstractAsyncContextManager[tuple[PgScopeFacts, bulk_store.CopyWriter]]:
        return self._evaluation.evaluation(version, policy, part, shared)

    @asynccontextmanager
    async def share_facts(self, source: Version, target: Version) -> AsyncIterator[SharedFacts]:
        # On a connection of its own, not the pool's: the snapshot is held while the
        # evaluation takes the pool's connections (a pool of two would run dry).
        conn = await asyncpg.connect(
            self._lock_url, server_settings={"application_name": "assessment-fact-snapshot"}
        )
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                snapshot, events, positions = await fact_copy.export_snapshot(
                    conn, source.schema_name
                )
                async with self.writer.version(target) as tx:
                    for topic, highest in positions.items():
                        await tx.save_positions(topic, highest)
                yield SharedFacts(FactSnapshot(source.schema_name, snapshot), events)
        finally:
            await conn.close()
