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


# The database cannot be reached (down, restarting, refusing connections): retry later.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,  # no answer to the connection attempt
    asyncpg.PostgresConnectionError,  # the connection broke or does not exist
    asyncpg.InterfaceError,  # the connection was closed under us
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, terminated
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
)
CONNECT_TIMEOUT_S = 5.0


async def create_pool(
    url: str, *, size: int, lazy: bool = False, read_only: bool = False
) -> asyncpg.Pool:
    """A pool; `lazy` connects nothing up front (the service starts without its
    database and connects on first use); `read_only` for the query API: besides its
    role's rights (SELECT only), every transaction is read-only, and serial."""
    settings = {"application_name": "assessment-query" if read_only else "assessment"}
    if read_only:
        settings["default_transaction_read_only"] = "on"
        # The query API's statements read a few thousand index entries at most: parallel
        # workers cost more to start than they save, and far more on a loaded machine
        # (a unit's monthly stats took 20 ms with two workers, 3 ms without).
        settings["max_parallel_workers_per_gather"] = "0"
    pool = await asyncpg.create_pool(
        url,
        min_size=0 if lazy else 1,
        max_size=size,
        command_timeout=60,
        timeout=CONNECT_TIMEOUT_S,
        server_settings=settings,
    )
    assert pool is not None
    return pool


# SQLSTATE classes that say the environment failed, not the content: connection (08),
# authorization (28), missing database (3D), transaction rollback: serialization
# failure and deadlock (40), insufficient resources (53), object in use / lock not
# available (55), operator intervention: canceled query, shutdown (57), system (58).
_ENVIRONMENT_CLASSES = frozenset({"08", "28", "3D", "40", "53", "55", "57", "58"})


def is_environment_error(error: BaseException) -> bool:
    """A failure of the environment (retry it, without end) rather than of what a
    record contains."""
    if isinstance(error, OSError | TimeoutError | asyncpg.InterfaceError):
        return True
    if isinstance(error, asyncpg.PostgresError):
        state = getattr(error, "sqlstate", None) or ""
        return state[:2] in _ENVIRONMENT_CLASSES
    return False


def role_of(url: str) -> str | None:
    """The role a URL logs in as (None when the URL names none)."""
    user = urlsplit(url).username
    return unquote(user) if user else None
