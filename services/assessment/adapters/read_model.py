"""Read snapshots of the live projection version, for the query API.

Each request reads inside one READ ONLY, REPEATABLE READ transaction and resolves
the live version inside it, so a switch to a new version is atomic for readers: a
request sees the old version or the new one, whole, never a mix or a gap. A snapshot
asked for inside another, in the same task, is that one: a dashboard page reads all it
shows through the API's own route functions, in one transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import asyncpg

from services.assessment.adapters.db import Connection
from services.assessment.adapters.versions import Version, live_version, load_policy
from services.assessment.domain.policy import Policy


class NoLiveVersionError(RuntimeError):
    """No projection version is live yet (the service is starting)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    conn: Connection
    version: Version
    policy: Policy

    @property
    def schema(self) -> str:
        return self.version.schema_name


class ReadModel:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._policies: dict[int, Policy] = {}
        # The snapshot open in this context, and the task that opened it: another task
        # (which inherits the context) must not share its connection.
        self._open: ContextVar[tuple[asyncio.Task[object] | None, Snapshot] | None] = ContextVar(
            "open_snapshot", default=None
        )

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        task = asyncio.current_task()
        outer = self._open.get()
        if outer is not None and outer[0] is task:
            yield outer[1]
            return
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            version = await live_version(conn)
            if version is None:
                raise NoLiveVersionError("no projection version is live yet")
            if version.version not in self._policies:
                self._policies[version.version] = await load_policy(conn, version.version)
            snap = Snapshot(conn=conn, version=version, policy=self._policies[version.version])
            opened = self._open.set((task, snap))
            try:
                yield snap
            finally:
                self._open.reset(opened)
