"""PostgreSQL connections: the pool and the connection type adapters accept."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import unquote, urlsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A plain connection or one borrowed from the pool; adapters accept either.
# (The proxy is generic only in the type stubs.)
if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.Connection | PoolConnectionProxy


async def create_pool(url: str, *, size: int, read_only: bool = False) -> asyncpg.Pool:
    """A pool; `read_only` for the query API: besides its role's rights (SELECT only),
    every transaction is read-only."""
    settings = {"application_name": "assessment-query" if read_only else "assessment"}
    if read_only:
        settings["default_transaction_read_only"] = "on"
    pool = await asyncpg.create_pool(
        url, min_size=1, max_size=size, command_timeout=60, server_settings=settings
    )
    assert pool is not None
    return pool


def role_of(url: str) -> str | None:
    """The role a URL logs in as (None when the URL names none)."""
    user = urlsplit(url).username
    return unquote(user) if user else None
