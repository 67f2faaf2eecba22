"""`assessment rerule`: a new version recomputed from the facts live already stores in
PostgreSQL. It equals what `replay` builds from Kafka (under the default policy and
under a stricter one), whatever the number of workers; a what-if leaves live untouched
and a later switch publishes the difference; the facts never come from Kafka."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import RecordsToDelete

from bench.generator import Generator
from services.assessment.adapters.versions import REBUILD_LOCK
from services.assessment.domain.changes import diff
from services.assessment.domain.policy import default_policy_path
from shared.kafka_topics import admin_client
from tests.support.assessment_env import AssessmentEnv, caught_up
from tests.support.feed import read_feed
from tests.support.kafka import publish_recorded
from tests.support.projections import Projection, ranking_counts, read_projection
from tests.support.topics import end_offsets, read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def events(n: int, seed: int) -> list[dict[str, object]]:
    return list(Generator(seed=seed, units=10, staff_per_unit=5).events(n, span_days=300))


def stricter(tmp_path: Path) -> Path:
    """The default policy with a lower monthly attendance limit (more warnings)."""
    path = tmp_path / "strict.toml"
    path.write_text(
        default_policy_path()
        .read_text(encoding="utf-8")
        .replace('version = "2026.1"', 'version = "2026.1-strict"')
        .replace("monthly_limit = 3", "monthly_limit = 2"),
        encoding="utf-8",
    )
    return path


async def assessment(
    env: AssessmentEnv, *args: str, extra: dict[str, str] | None = None, expect: int = 0
) -> subprocess.CompletedProcess[str]:
    """Our own console script, as an operator runs it; `expect`: its exit status."""
    done = await asyncio.to_thread(
        subprocess.run,
        [str(BIN / "assessment"), *args],
        env={**env.processes[0].env, **(extra or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == expect, done.stdout + done.stderr
    return done


async def started_service(
    env: AssessmentEnv, history: list[dict[str, object]]
) -> httpx.AsyncClient:
    await env.create_topics()
    await publish_recorded(env.kafka, env.topics.events, history)
    client = env.client(env.start().wait_ready())
    await wait_for(lambda: caught_up(client, len(history)), timeout=120, what="catch-up")
    return client


async def states(url: str) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT version, state FROM assessment.versions ORDER BY version")
        return [(r["version"], r["state"]) for r in rows]
    finally:
        await conn.close()


async def tables(url: str, version: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a version, every column, in a stable order: facts, event ids,
    positions, complaints, warnings, alerts, the ranking's counts."""
    conn = await asyncpg.connect(url)
    try:
        schema = f"proj_v{version}"
        names = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", schema
            )
        ]
        found = {}
        for name in names:
            rows = await conn.fetch(f"SELECT * FROM {schema}.{name}")
            found[name] = sorted(tuple(r) for r in rows)
        return found
    finally:
        await conn.close()


async def projection(url: str, version: int) -> Projection:
    conn = await asyncpg.connect(url)
    try:
        return await read_projection(conn, f"proj_v{version}")
    finally:
        await conn.close()


def version_of(output: str) -> int:
    return int(output.split("version ")[1].split(" ")[0])


async def test_rerule_under_the_same_policy_equals_live_and_replay(
    assessment_env: AssessmentEnv,
) -> None:
    client = await started_service(assessment_env, events(3000, seed=21))
    url = assessment_env.database_url

    done = await assessment(assessment_env, "rerule", "--policy", str(default_policy_path()))
    assert "version 2 is live" in done.stdout
    await assessment(assessment_env, "replay", "--no-switch")
    await client.aclose()

    assert await states(url) == [(1, "ready"), (2, "live"), (3, "ready")]
    live, reruled, replayed = [await tables(url, v) for v in (1, 2, 3)]
    assert reruled["warnings"], "the history produces warnings"
    assert reruled == replayed
    # The live fold wrote the same results row by row (its alerts' digests too).
    assert reruled == live
    conn = await asyncpg.connect(url)
    try:
        kept, counted = await ranking_counts(conn, "proj_v2")
        analyzed = await conn.fetchval(
            "SELECT count(DISTINCT tablename) FROM pg_stats WHERE schemaname = 'proj_v2'"
        )
    finally:
        await conn.close()
    assert kept, "the history has something to rank"
    assert kept == counted, "the ranking's counts, made in one statement, are exact"
    assert analyzed >= 8, "the new version was analyzed before it went live"


async def test_a_stricter_what_if_equals_replays_and_a_later_switch_feeds_the_difference(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    client = await started_service(assessment_env, events(3000, seed=22))
    url = assessment_env.database_url
    strict = stricter(tmp_path)
    before = (await client.get("/v1/warnings", params={"limit": 500})).json()["items"]

    what_if = await assessment(assessment_env, "rerule", "--policy", str(strict), "--no-switch")
    assert "version 2 is built, not live" in what_if.stdout
    assert "change feed: 0 changes" in what_if.stdout
    assert "added" in what_if.stdout  # the difference from live, printed
    await assessment(assessment_env, "replay", "--policy", str(strict), "--no-switch")

    assert await states(url) == [(1, "live"), (2, "ready"), (3, "ready")]
    reruled, replayed = await tables(url, 2), await tables(url, 3)
    assert reruled == replayed
    assert {w[-1] for w in reruled["warnings"]} == {"2026.1-strict"}
    live = await projection(url, 1)
    assert (await projection(url, 2)).rows() != live.rows(), "the stricter policy changes things"
    status = (await client.get("/v1/status")).json()
    assert status["policy_version"] == "2026.1"
    assert status["projection_version"] == 1
    assert (await client.get("/v1/warnings", params={"limit": 500})).json()["items"] == before
    feed_before = await read_feed(assessment_env.kafka, assessment_env.topics.assessment_changes)
    assert not [c for c in feed_before if c.payload["projection_version"] != 1]

    switching = await assessment(assessment_env, "versions", "switch", "2")
    assert "version 2 is live" in switching.stdout
    queued = int(switching.stdout.split("change feed: ")[1].split(" ")[0])
    new = await projection(url, 2)
    expected = {
        (change.kind, change.item.id, change.change.value)
        for change in diff([*live.warnings, *live.alerts], [*new.warnings, *new.alerts])
    }
    assert queued == len(expected) > 0

    async def published() -> set[tuple[str, str, str]]:
        feed = await read_feed(assessment_env.kafka, assessment_env.topics.assessment_changes)
        return {(c.kind, c.subject, c.change) for c in feed if c.payload["projection_version"] == 2}

    await wait_for(published, until=lambda got: got == expected, timeout=60, what="the feed")
    assert (await client.get("/v1/status")).json()["policy_version"] == "2026.1-strict"
    await client.aclose()


async def test_one_worker_and_three_workers_build_the_same_version(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    client = await started_service(assessment_env, events(3000, seed=23))
    await client.aclose()
    strict = str(stricter(tmp_path))
    for workers in ("1", "3"):
        await assessment(
            assessment_env, "rerule", "--policy", strict, "--no-switch", "--workers", workers
        )
    url = assessment_env.database_url
    one, three = await tables(url, 2), await tables(url, 3)
    assert all(one[table] for table in ("warnings", "alerts", "complaints"))
    assert one == three


async def test_a_policy_in_another_time_zone_recomputes_the_facts_months(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    client = await started_service(assessment_env, events(2000, seed=26))
    await client.aclose()
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text(
        default_policy_path()
        .read_text(encoding="utf-8")
        .replace('version = "2026.1"', 'version = "2026.1-ny"')
        .replace('time_zone = "Asia/Shanghai"', 'time_zone = "America/New_York"'),
        encoding="utf-8",
    )
    await assessment(assessment_env, "rerule", "--policy", str(elsewhere), "--no-switch")
    await assessment(assessment_env, "replay", "--policy", str(elsewhere), "--no-switch")
    url = assessment_env.database_url
    live, reruled, replayed = [await tables(url, v) for v in (1, 2, 3)]
    assert reruled == replayed
    assert reruled["inspections"] != live["inspections"], "months at the edges moved"


async def delete_every_record(env: AssessmentEnv) -> None:
    """events.v1 keeps its offsets but no longer gives a single record to any reader."""
    ends = await end_offsets(env.kafka, env.topics.events)
    admin = admin_client(env.kafka)
    await admin.start()
    try:
        await admin.delete_records(
            {
                TopicPartition(env.topics.events, partition): RecordsToDelete(end)
                for partition, end in ends.items()
            }
        )
    finally:
        await admin.close()


async def test_the_facts_come_from_postgresql_not_from_kafka(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    history = events(2000, seed=24)
    client = await started_service(assessment_env, history)
    url = assessment_env.database_url
    strict = str(stricter(tmp_path))
    await assessment(assessment_env, "replay", "--policy", strict, "--no-switch")  # v2
    replayed = await tables(url, 2)

    await delete_every_record(assessment_env)
    assert sum((await end_offsets(assessment_env.kafka, assessment_env.topics.events)).values())
    assert await read_topic(assessment_env.kafka, assessment_env.topics.events) == []
    # A what-if with no broker at all: it does not even connect to Kafka.
    unreachable = {"KAFKA_BOOTSTRAP": "127.0.0.1:9"}
    await assessment(
        assessment_env, "rerule", "--policy", strict, "--no-switch", extra=unreachable
    )  # v3
    assert await tables(url, 3) == replayed
    # And a switch: the catch-up reads from the copied positions on, which is nothing.
    switched = await assessment(assessment_env, "rerule", "--policy", strict)  # v4
    assert "version 4 is live" in switched.stdout
    assert await tables(url, 4) == replayed
    assert (await client.get("/v1/status")).json()["projection_version"] == 4
    await client.aclose()


async def test_a_rerule_is_refused_while_a_rebuild_runs(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    client = await started_service(assessment_env, events(50, seed=25))
    await client.aclose()
    holder = await asyncpg.connect(assessment_env.database_url)
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", REBUILD_LOCK)
        refused = await assessment(
            assessment_env, "rerule", "--policy", str(stricter(tmp_path)), expect=3
        )
    finally:
        await holder.close()
    assert "another rebuild is running" in refused.stdout + refused.stderr
    assert await states(assessment_env.database_url) == [(1, "live")]
