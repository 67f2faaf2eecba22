"""Schema migrations: numbered SQL files applied once, in order, at start-up.

`control/` holds the `assessment` schema (the registry of projection versions);
`projection/` holds one projection version and is applied to every version's own
schema. Applied files are recorded in `assessment.migrations`; an advisory lock
keeps two instances starting together from applying the same file twice.
"""

from __future__ import annotations

import re
from importlib import resources

from services.assessment.adapters.db import Connection

CONTROL_SCHEMA = "assessment"
MIGRATION_LOCK = 7_001_001  # advisory lock key: "applying migrations"
_SCHEMA_NAME = re.compile(r"^proj_v[0-9]+$")


def projection_schema_name(version: int) -> str:
    return f"proj_v{version}"


def checked_schema(name: str) -> str:
    """Schema names are formatted into SQL, so only our own pattern is accepted."""
    if not _SCHEMA_NAME.fullmatch(name):
        raise ValueError(f"not a projection schema name: {name!r}")
    return name


def _migration_files(kind: str) -> list[tuple[str, str]]:
    folder = resources.files("services.assessment.adapters").joinpath("migrations", kind)
    files = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sql"))
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in files]


async def _apply(conn: Connection, *, kind: str, schema: str) -> list[str]:
    applied = {
        row["name"]
        for row in await conn.fetch(
            "SELECT name FROM assessment.migrations WHERE schema_name = $1", schema
        )
    }
    done: list[str] = []
    for name, sql in _migration_files(kind):
        if name in applied:
            continue
        async with conn.transaction():
            await conn.execute(f"SET LOCAL search_path TO {schema}")
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO assessment.migrations (schema_name, name) VALUES ($1, $2)",
                schema,
                name,
            )
        done.append(name)
    return done


async def migrate_control(conn: Connection) -> list[str]:
    """Create or upgrade the control schema; returns the files applied now."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {CONTROL_SCHEMA}")
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS assessment.migrations (
                   schema_name text NOT NULL,
                   name        text NOT NULL,
                   applied_at  timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (schema_name, name))"""
        )
        return await _apply(conn, kind="control", schema=CONTROL_SCHEMA)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def migrate_projection(conn: Connection, schema: str) -> list[str]:
    """Create or upgrade one projection version's schema."""
    schema = checked_schema(schema)
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        return await _apply(conn, kind="projection", schema=schema)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


def ident(name: str) -> str:
    """`name` as a quoted SQL identifier."""
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
        who = ident(role)
        for schema in schemas:
            statements += [
                f"GRANT USAGE ON SCHEMA {ident(schema)} TO {who}",
                f"GRANT {rights} ON ALL TABLES IN SCHEMA {ident(schema)} TO {who}",
            ]
            if role == writer:
                statements.append(
                    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {ident(schema)} TO {who}"
                )
        statements += [
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(owner)} GRANT USAGE ON SCHEMAS TO {who}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(owner)} GRANT {rights} ON TABLES TO {who}",
        ]
        if role == writer:
            statements.append(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(owner)} "
                f"GRANT USAGE, SELECT ON SEQUENCES TO {who}"
            )
    async with conn.transaction():
        # Two instances starting together would otherwise update the same ACLs at once
        # ("tuple concurrently updated").
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        for statement in statements:
            await conn.execute(statement)
