"""The rebuild lock (one rebuild at a time), on a connection of its own.

A session-level advisory lock lives exactly as long as its connection. On a pooled
connection it could vanish unseen (the backend terminated, the network cut) while the
rebuild goes on and switches. So the lock gets a dedicated connection whose end is
noticed at once (a termination listener: the rebuild is aborted), and the switch
transaction checks in `pg_locks` that this very session still holds it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from services.assessment.adapters.db import Connection
from services.assessment.adapters.versions import REBUILD_LOCK, Catalogue
from services.assessment.service_layer.rebuild_ports import (
    RebuildLockLostError,
    SwitchTransaction,
)

log = logging.getLogger(__name__)

# pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low 32
# bits), with objsubid 1.
_HELD_BY = """
    SELECT EXISTS (
        SELECT 1 FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND objsubid = 1
           AND classid::bigint = $1::bigint >> 32 AND objid::bigint = $1::bigint & 4294967295
           AND pid = $2)"""


__all__ = ["RebuildLock", "RebuildLockLostError", "held_by"]


async def held_by(conn: Connection, pid: int) -> bool:
    """Whether the session `pid` holds the rebuild lock, seen from `conn`."""
    held: bool = await conn.fetchval(_HELD_BY, REBUILD_LOCK, pid)
    return held


class RebuildLock:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._pid = conn.get_server_pid()
        self._released = False
        self._on_lost: list[Callable[[], object]] = []
        conn.add_termination_listener(self._ended)

    @classmethod
    async def try_take(cls, url: str) -> RebuildLock | None:
        """The lock, on a new connection; None when another session holds it."""
        conn = await asyncpg.connect(
            url, server_settings={"application_name": "assessment-rebuild-lock"}
        )
        try:
            taken = await conn.fetchval("SELECT pg_try_advisory_lock($1)", REBUILD_LOCK)
        except BaseException:
            await conn.close()
            raise
        if not taken:
            await conn.close()
            return None
        return cls(conn)

    @property
    def catalogue(self) -> Catalogue:
        """The registry on the lock's own session: work that must run as the lock holder
        (dropping a build left behind checks that no other session holds the lock)."""
        return Catalogue(self._conn)

    @property
    def lost(self) -> bool:
        return not self._released and self._conn.is_closed()

    def on_lost(self, callback: Callable[[], object]) -> None:
        """Call `callback` as soon as the lock's connection ends (not on release)."""
        self._on_lost.append(callback)

    async def check_held(self, tx: SwitchTransaction) -> None:
        """Raise unless the lock's session still holds the lock; run it inside the
        transaction that acts on the lock's behalf (the switch)."""
        if self.lost or not await tx.rebuild_lock_held_by(self._pid):
            raise RebuildLockLostError

    async def release(self) -> None:
        """Ending the session releases the lock."""
        self._released = True
        await self._conn.close()

    def _ended(self, _: Any) -> None:
        if self._released:
            return
        log.error("the rebuild lock's database session ended; aborting the rebuild")
        for callback in self._on_lost:
            callback()
