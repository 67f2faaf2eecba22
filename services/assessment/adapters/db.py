"""PostgreSQL connections: the pool and the connection type adapters accept."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A plain connection or one borrowed from the pool; adapters accept either.
# (The proxy is generic only in the type stubs.)
if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.Connection | PoolConnectionProxy


async def create_pool(url: str, *, size: int) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=size,
        command_timeout=60,
        server_settings={"application_name": "assessment"},
    )
    assert pool is not None
    return pool
