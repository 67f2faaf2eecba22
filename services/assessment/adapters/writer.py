"""Write transactions on a projection version (the unit of work of the projector).

`live()` folds into whichever version is live when the transaction starts, holding
that version's writer lock shared with the other live folds (several instances fold
at once; the scope locks of `fold_locks.py` keep them apart where they meet); if a
switch made another version live while it waited for the lock, it starts over on the
new one. Its changes to warnings and alerts go to the change feed's outbox before it
commits. `version(v)` writes into a given version alone (the rebuild, the switch),
holding its writer lock exclusive; it publishes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from services.assessment.adapters import deadletter, feed
from services.assessment.adapters.db import Connection
from services.assessment.adapters.fold_locks import FoldLocks
from services.assessment.adapters.projection_store import PgProjectionStore
from services.assessment.adapters.versions import (
    Version,
    VersionError,
    live_version,
    load_policy,
    lock_writer,
    lock_writer_shared,
)
from services.assessment.domain.changes import ChangeLog
from services.assessment.domain.policy import Policy
from services.assessment.domain.records import Poison, Record

log = logging.getLogger(__name__)
T = TypeVar("T")
CONFLICT_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class WriteTx:
    conn: Connection
    version: Version
    policy: Policy
    store: PgProjectionStore
    # Where parked records go; None: a version being built, whose poison the live
    # fold parks already (only counted).
    deadletter_topic: str | None = None
    # What the transaction changed in the live projections (None: not live).
    changes: ChangeLog | None = None

    async def park(self, poison: Sequence[Poison]) -> Sequence[Poison]:
        if self.deadletter_topic is None:
            return poison
        return await deadletter.park(self.conn, poison, self.deadletter_topic)

    async def mark_retried(self, record: Record, outcome: str) -> None:
        await deadletter.mark_retried(self.conn, record, outcome)

    async def lock_partitions(self, topic: str, partitions: Collection[int]) -> None:
        await self.store.lock_partitions(topic, partitions)

    async def positions(self, topic: str) -> dict[int, int]:
        return await self.store.positions(topic)

    async def save_positions(self, topic: str, positions: dict[int, int]) -> None:
        await self.store.save_positions(topic, positions)


class ProjectionWriter:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        deadletter_topic: str | None = None,
        changes_topic: str | None = None,
        on_rollback: Callable[[], None] = lambda: None,
    ) -> None:
        self._pool = pool
        self._on_rollback = on_rollback
        self._deadletter_topic = deadletter_topic  # parks from live transactions only
        self._changes_topic = changes_topic  # the change feed, of live transactions only
        self.changes_published = 0  # changes queued in the outbox by committed transactions
        self._policies: dict[int, Policy] = {}

    async def policy_of(self, conn: Connection, version: int) -> Policy:
        # A version's policy never changes, so it is read once.
        if version not in self._policies:
            self._policies[version] = await load_policy(conn, version)
        return self._policies[version]

    async def _tx(self, conn: Connection, version: Version, *, live: bool = False) -> WriteTx:
        policy = await self.policy_of(conn, version.version)
        changes = ChangeLog() if live and self._changes_topic else None
        store = PgProjectionStore(
            conn,
            schema=version.schema_name,
            tz=policy.tz,
            changes=changes,
            locks=FoldLocks(conn) if live else None,
        )
        topic = self._deadletter_topic if live else None
        return WriteTx(conn=conn, version=version, policy=policy, store=store,
                       deadletter_topic=topic, changes=changes)  # fmt: skip

    @asynccontextmanager
    async def live(self) -> AsyncIterator[WriteTx]:
        async with self._pool.acquire() as conn:
            while True:
                async with conn.transaction():
                    version = await live_version(conn)
                    if version is None:
                        raise VersionError("no live projection version")
                    await lock_writer_shared(conn, version.version)
                    current = await live_version(conn)
                    if current is None or current.version != version.version:
                        continue  # switched while we waited: fold into the new one
                    tx = await self._tx(conn, version, live=True)
                    yield tx
                    queued = await self._publish_changes(tx)
                    break
            self.changes_published += queued

    async def run_live(self, work: Callable[[WriteTx], Awaitable[T]]) -> T:
        """`work` in a live transaction, run again at once when PostgreSQL rolled it
        back for a conflict with a concurrent one (deadlock, serialization failure):
        the scope locks are taken in one order, so this is for the rare lock taken out
        of order. Past the attempts it is raised (the consumer retries with backoff)."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                async with self.live() as tx:
                    return await work(tx)
            except asyncpg.exceptions.TransactionRollbackError as error:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                self._on_rollback()
                log.warning("live fold rolled back (%s); attempt %d", error.sqlstate, attempt + 1)
        raise AssertionError("unreachable")

    async def _publish_changes(self, tx: WriteTx) -> int:
        if tx.changes is None or self._changes_topic is None:
            return 0
        return await feed.publish_changes(
            tx.conn,
            tx.changes.changes(),
            topic=self._changes_topic,
            projection_version=tx.version.version,
        )

    @asynccontextmanager
    async def version(
        self, version: Version, *, conn: Connection | None = None
    ) -> AsyncIterator[WriteTx]:
        """A transaction on `version`; on `conn` when given (the switch runs inside one)."""
        if conn is not None:
            async with conn.transaction():
                await lock_writer(conn, version.version)
                yield await self._tx(conn, version)
            return
        async with self._pool.acquire() as own, own.transaction():
            await lock_writer(own, version.version)
            yield await self._tx(own, version)
