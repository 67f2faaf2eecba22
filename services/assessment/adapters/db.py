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


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def grant_service_roles(conn: Connection, *, writer: str | None, reader: str | None) -> None:
    """Run as the owner after migrations: the writer may read and write the rows of the
    control schema and of every projection schema, the reader may only read them; the
    same for whatever the owner creates later (a replay's new proj_vN schema)."""
    owner = await conn.fetchval("SELECT current_user")
    schemas = [
        row["nspname"]
        for row in await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname = 'assessment' "
            "OR nspname ~ '^proj_v[0-9]+$'"
        )
    ]
    statements: list[str] = []
    for role, rights in ((writer, "SELECT, INSERT, UPDATE, DELETE"), (reader, "SELECT")):
        if role is None or role == owner:
            continue
        who = _ident(role)
        for schema in schemas:
            statements += [
                f"GRANT USAGE ON SCHEMA {_ident(schema)} TO {who}",
                f"GRANT {rights} ON ALL TABLES IN SCHEMA {_ident(schema)} TO {who}",
            ]
            if role == writer:
                statements.append(
                    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_ident(schema)} TO {who}"
                )
        statements += [
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_ident(owner)} GRANT USAGE ON SCHEMAS TO {who}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_ident(owner)} GRANT {rights} ON TABLES TO {who}",
        ]
        if role == writer:
            statements.append(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {_ident(owner)} "
                f"GRANT USAGE, SELECT ON SEQUENCES TO {who}"
            )
    async with conn.transaction():
        for statement in statements:
            await conn.execute(statement)
