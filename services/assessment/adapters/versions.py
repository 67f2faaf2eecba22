"""The registry of projection versions (`assessment.versions`) and its locks.

A version is a complete set of projections in its own schema, built with one policy.
Exactly one version is live. Two kinds of advisory locks keep writers apart:
- the writer lock of a version (transaction-scoped): the live fold holds it shared,
  so several instances fold at once (the scope locks of `fold_locks.py` keep them
  apart where their work meets); a writer that must be alone on a version (the build,
  the catch-up and the switch of a rebuild) holds it exclusive, which stops every
  live fold of that version until it commits;
- the rebuild lock (session-scoped, on a connection of its own: `rebuild_lock.py`):
  only one rebuild runs at a time.
"""

from __future__ import annotations

import json

import asyncpg

from services.assessment.adapters.db import Connection
from services.assessment.adapters.projection_sql import sql_for
from services.assessment.adapters.schema import (
    checked_schema,
    migrate_projection,
    projection_schema_name,
)
from services.assessment.domain.policy import Policy, policy_fingerprint
from services.assessment.service_layer.rebuild_ports import Version, VersionError

WRITER_LOCK_CLASS = 7_001_003
REBUILD_LOCK = 7_001_002

FACT_TABLES = ("complaint_filings", "complaint_verdicts", "inspections", "commendations")


__all__ = ["Catalogue", "Version", "VersionError"]  # the types, for the callers of this module

_COLUMNS = (
    "version, schema_name, policy_version, policy_fingerprint, state, created_at, live_since, "
    "note, holds_facts"
)


def _version(row: asyncpg.Record) -> Version:
    return Version(**dict(row))


async def live_version(conn: Connection) -> Version | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM assessment.versions WHERE state = 'live'")
    return _version(row) if row else None


async def get_version(conn: Connection, version: int) -> Version | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM assessment.versions WHERE version = $1", version
    )
    return _version(row) if row else None


async def list_versions(conn: Connection) -> list[Version]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM assessment.versions ORDER BY version")
    return [_version(row) for row in rows]


async def load_policy(conn: Connection, version: int) -> Policy:
    raw = await conn.fetchval("SELECT policy FROM assessment.versions WHERE version = $1", version)
    if raw is None:
        raise VersionError(f"projection version {version} does not exist")
    return Policy.model_validate(json.loads(raw))


async def create_version(
    conn: Connection, *, policy: Policy, state: str, note: str | None = None
) -> Version:
    """Register a new version (its schema is created by the caller's migration)."""
    number = await conn.fetchval("SELECT nextval('assessment.version_numbers')")
    row = await conn.fetchrow(
        f"""INSERT INTO assessment.versions
               (version, schema_name, policy_version, policy_fingerprint, policy, state,
                live_since, note)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6,
                    CASE WHEN $6 = 'live' THEN now() END, $7)
            RETURNING {_COLUMNS}""",
        number,
        projection_schema_name(number),
        policy.version,
        policy_fingerprint(policy),
        json.dumps(policy.model_dump(mode="json"), sort_keys=True),  # jsonb text
        state,
        note,
    )
    assert row is not None
    return _version(row)


async def set_state(conn: Connection, version: int, state: str) -> None:
    await conn.execute(
        "UPDATE assessment.versions SET state = $2 WHERE version = $1", version, state
    )


async def set_holds_facts(conn: Connection, version: int, holds_facts: bool) -> None:
    await conn.execute(
        "UPDATE assessment.versions SET holds_facts = $2 WHERE version = $1", version, holds_facts
    )


async def empty_for_build(conn: Connection, version: int) -> Version:
    """A ready version's schema dropped (the caller migrates it anew) and the version
    'building' again, under the same number and policy: a what-if that holds results
    only, about to be evaluated again from the facts. Call under the rebuild lock."""
    async with conn.transaction():
        found = await get_version(conn, version)
        if found is None:
            raise VersionError(f"projection version {version} does not exist")
        if found.state != "ready":
            raise VersionError(
                f"version {version} is {found.state}; only a ready version can be switched to"
            )
        await _drop_schema(conn, found.schema_name)
        row = await conn.fetchrow(
            f"""UPDATE assessment.versions SET state = 'building', holds_facts = true
                 WHERE version = $1 RETURNING {_COLUMNS}""",
            version,
        )
    assert row is not None
    return _version(row)


async def switch_live(conn: Connection, *, to_version: int) -> Version | None:
    """Make `to_version` live; the previous live version stays, as 'ready'.

    Call inside the transaction that holds both versions' writer locks.
    """
    previous = await live_version(conn)
    if previous is not None:
        await set_state(conn, previous.version, "ready")
    await conn.execute(
        "UPDATE assessment.versions SET state = 'live', live_since = now() WHERE version = $1",
        to_version,
    )
    return previous


async def lock_writer(conn: Connection, version: int) -> None:
    """Hold the version's writer lock, alone, until the current transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", WRITER_LOCK_CLASS, version)


async def lock_writer_shared(conn: Connection, version: int) -> None:
    """Hold the version's writer lock shared with other live folds until the current
    transaction ends (it waits while a rebuild or a switch holds it alone)."""
    await conn.execute("SELECT pg_advisory_xact_lock_shared($1, $2)", WRITER_LOCK_CLASS, version)


async def event_count(conn: Connection, schema: str) -> int:
    schema = checked_schema(schema)
    total = " + ".join(f"(SELECT count(*) FROM {schema}.{table})" for table in FACT_TABLES)
    count: int = await conn.fetchval(f"SELECT {total}")
    return count


async def drop_version(conn: Connection, version: int) -> Version:
    """Drop a version that is neither live nor being built."""
    async with conn.transaction():
        found = await get_version(conn, version)
        if found is None:
            raise VersionError(f"projection version {version} does not exist")
        if found.is_live:
            raise VersionError(
                f"version {version} is live; switch to another version before dropping it"
            )
        if found.state == "building" and not await _rebuild_lock_free(conn):
            raise VersionError(f"version {version} is being built right now")
        await _drop_schema(conn, found.schema_name)
        await conn.execute("DELETE FROM assessment.versions WHERE version = $1", version)
        return found


async def _drop_schema(conn: Connection, schema: str) -> None:
    """The schema, its data and its record of applied migrations."""
    await conn.execute(f"DROP SCHEMA IF EXISTS {checked_schema(schema)} CASCADE")
    await conn.execute("DELETE FROM assessment.migrations WHERE schema_name = $1", schema)


async def _rebuild_lock_free(conn: Connection) -> bool:
    free: bool = await conn.fetchval(
        "SELECT pg_try_advisory_lock($1) AND pg_advisory_unlock($1)", REBUILD_LOCK
    )
    return free


class Catalogue:
    """The registry on one connection (the port `VersionCatalogue`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def list_versions(self) -> list[Version]:
        return await list_versions(self._conn)

    async def get_version(self, number: int) -> Version | None:
        return await get_version(self._conn, number)

    async def live_version(self) -> Version | None:
        return await live_version(self._conn)

    async def create_version(self, *, policy: Policy, state: str, note: str | None) -> Version:
        version = await create_version(self._conn, policy=policy, state=state, note=note)
        await migrate_projection(self._conn, version.schema_name)
        return version

    async def empty_for_build(self, number: int) -> Version:
        version = await empty_for_build(self._conn, number)
        await migrate_projection(self._conn, version.schema_name)
        return version

    async def set_state(self, number: int, state: str) -> None:
        await set_state(self._conn, number, state)

    async def set_holds_facts(self, number: int, holds_facts: bool) -> None:
        await set_holds_facts(self._conn, number, holds_facts)

    async def drop_version(self, number: int) -> Version:
        return await drop_version(self._conn, number)

    async def positions(self, version: Version, topic: str) -> dict[int, int]:
        rows = await self._conn.fetch(sql_for(version.schema_name).positions, topic)
        return {row["partition"]: row["offset"] for row in rows}
