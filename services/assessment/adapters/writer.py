"""Write transactions on a projection version (the unit of work of the projector).

`live()` folds into whichever version is live when the transaction starts, holding
that version's writer lock; if a switch made another version live while it waited
for the lock, it starts over on the new one. Its changes to warnings and alerts go
to the change feed's outbox before it commits. `version(v)` writes into a given
version (the rebuild), which publishes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from services.assessment.adapters import deadletter, feed
from services.assessment.adapters.db import Connection
from services.assessment.adapters.projection_store import PgProjectionStore
from services.assessment.adapters.versions import (
    Version,
    VersionError,
    live_version,
    load_policy,
    lock_writer,
)
from services.assessment.domain.changes import ChangeLog
from services.assessment.domain.policy import Policy
from services.assessment.domain.records import Poison, Record


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
    ) -> None:
        self._pool = pool
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
        store = PgProjectionStore(conn, schema=version.schema_name, tz=policy.tz, changes=changes)
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
                    await lock_writer(conn, version.version)
                    current = await live_version(conn)
                    if current is None or current.version != version.version:
                        continue  # switched while we waited: fold into the new one
                    tx = await self._tx(conn, version, live=True)
                    yield tx
                    queued = await self._publish_changes(tx)
                    break
            self.changes_published += queued

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
