"""The database roles on the real server (stack/postgres.sh): the query API's role reads
and cannot write, the consumer's role writes rows but changes no schema, and what a
replay creates later is covered too (default privileges)."""

from __future__ import annotations

import asyncpg
import pytest

from services.assessment.adapters.db import create_pool, role_of
from tests.support.assessment_env import AssessmentEnv, caught_up
from tests.support.events import complaint_filed, to_json
from tests.support.kafka import publish_recorded
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

FORGED_VERSION = (
    "INSERT INTO assessment.versions (version, schema_name, policy_version, "
    "policy_fingerprint, policy, state) VALUES (99, 'proj_v99', 'x', 'x', '{}', 'ready')"
)


async def started(assessment_env: AssessmentEnv) -> None:
    await assessment_env.create_topics()
    events = [to_json(complaint_filed()) for _ in range(3)]
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, events)
    service = assessment_env.start().wait_ready()
    async with assessment_env.client(service) as client:
        await wait_for(lambda: caught_up(client, len(events)), timeout=60, what="catch-up")


async def test_the_query_apis_role_reads_but_cannot_write(assessment_env: AssessmentEnv) -> None:
    databases = assessment_env.databases
    roles = {role_of(databases.owner), role_of(databases.writer), role_of(databases.reader)}
    assert len(roles) == 3
    await started(assessment_env)
    # The pool exactly as the service builds it for its query API.
    pool = await create_pool(databases.reader, size=2, read_only=True)
    try:
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM assessment.versions") == 1
            assert await conn.fetchval("SELECT count(*) FROM proj_v1.complaint_filings") >= 0
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await conn.execute(FORGED_VERSION)
            # Even out of read-only mode, the role itself has no right to write.
            await conn.execute("SET default_transaction_read_only = off")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(FORGED_VERSION)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("DELETE FROM proj_v1.complaint_filings")
    finally:
        await pool.close()


async def test_the_consumers_role_writes_rows_but_changes_no_schema(
    assessment_env: AssessmentEnv,
) -> None:
    await started(assessment_env)
    conn = await asyncpg.connect(assessment_env.databases.writer)
    try:
        async with conn.transaction():
            await conn.execute("UPDATE assessment.versions SET note = note")  # may write rows
        for ddl in (
            "CREATE SCHEMA proj_v99",
            "DROP TABLE proj_v1.complaint_filings",
            "CREATE TABLE assessment.sneaky (x int)",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(ddl)
    finally:
        await conn.close()


async def test_a_schema_the_owner_creates_later_is_readable_and_writable_as_intended(
    assessment_env: AssessmentEnv,
) -> None:
    await started(assessment_env)  # the service has set the default privileges
    databases = assessment_env.databases
    owner = await asyncpg.connect(databases.owner)
    try:
        await owner.execute("CREATE SCHEMA proj_v77; CREATE TABLE proj_v77.t (x int)")
    finally:
        await owner.close()
    writer = await asyncpg.connect(databases.writer)
    reader = await asyncpg.connect(databases.reader)
    try:
        await writer.execute("INSERT INTO proj_v77.t VALUES (1)")
        assert await reader.fetchval("SELECT x FROM proj_v77.t") == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await reader.execute("INSERT INTO proj_v77.t VALUES (2)")
    finally:
        await writer.close()
        await reader.close()
