"""`assessment rerule`: a new version recomputed from the facts live already stores in
PostgreSQL. It equals what `replay` builds from Kafka (under the default policy and
under a stricter one), whatever the number of workers; a what-if leaves live untouched,
reads live's facts without copying them (it holds results only), and a later switch
evaluates it again from the facts and publishes the difference; the facts never come
from Kafka."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import RecordsToDelete

from bench.generator import Generator
from services.assessment.adapters.kafka_log import HistoryReader
from services.assessment.adapters.versions import REBUILD_LOCK, VersionError
from services.assessment.bootstrap import rebuild_ports
from services.assessment.domain.changes import diff
from services.assessment.domain.policy import default_policy_path
from services.assessment.service_layer.rebuild import switch_to
from shared.kafka_topics import admin_client
from tests.support.assessment_env import AssessmentEnv, caught_up
from tests.support.feed import read_feed
from tests.support.kafka import publish_recorded
from tests.support.policies import policy_variant, stricter_policy
from tests.support.projections import (
    connected,
    facts_of,
    projection_at,
    ranking_counts,
    results_of,
    version_states,
    version_tables,
)
from tests.support.topics import end_offsets, read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def events(n: int, seed: int) -> list[dict[str, object]]:
    return list(Generator(seed=seed, units=10, staff_per_unit=5).events(n, span_days=300))


async def test_rerule_under_the_same_policy_equals_live_and_replay(
    assessment_env: AssessmentEnv,
) -> None:
    client = await assessment_env.serving(events(3000, seed=21))
    url = assessment_env.database_url

    done = await assessment_env.cli("rerule", "--policy", str(default_policy_path()))
    assert "version 2 is live" in done.stdout
    await assessment_env.cli("replay", "--no-switch")
    await client.aclose()

    assert await version_states(url) == [(1, "ready"), (2, "live"), (3, "ready")]
    live, reruled, replayed = [await version_tables(url, v) for v in (1, 2, 3)]
    assert reruled["warnings"], "the history produces warnings"
    assert reruled == replayed
    # The live fold wrote the same results row by row (its alerts' digests too).
    assert reruled == live
    async with connected(url) as conn:
        kept, counted = await ranking_counts(conn, "proj_v2")
        analyzed = await conn.fetchval(
            "SELECT count(DISTINCT tablename) FROM pg_stats WHERE schemaname = 'proj_v2'"
        )
    assert kept, "the history has something to rank"
    assert kept == counted, "the ranking's counts, made in one statement, are exact"
    assert analyzed >= 8, "the new version was analyzed before it went live"


async def test_a_stricter_what_if_equals_replays_and_a_later_switch_feeds_the_difference(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    history = events(3300, seed=22)
    client = await assessment_env.serving(history[:3000])
    url = assessment_env.database_url
    strict = stricter_policy(tmp_path)
    before = (await client.get("/v1/warnings", params={"limit": 500})).json()["items"]

    what_if = await assessment_env.cli("rerule", "--policy", str(strict), "--no-switch")
    assert "version 2 is built, not live" in what_if.stdout
    assert "change feed: 0 changes" in what_if.stdout
    assert "added" in what_if.stdout  # the difference from live, printed
    await assessment_env.cli("replay", "--policy", str(strict), "--no-switch")

    assert await version_states(url) == [(1, "live"), (2, "ready"), (3, "ready")]
    reruled, replayed = await version_tables(url, 2), await version_tables(url, 3)
    assert results_of(reruled) == results_of(replayed)
    assert {w[-1] for w in reruled["warnings"]} == {"2026.1-strict"}
    # The what-if read live's facts where they are: it copied none, but noted how far
    # live had folded.
    assert not any(facts_of(reruled).values()), "a what-if holds results only"
    assert (
        reruled["positions"] == replayed["positions"] == (await version_tables(url, 1))["positions"]
    )
    live = await projection_at(url, "proj_v1")
    what_if_rows = (await projection_at(url, "proj_v2")).rows()
    assert what_if_rows != live.rows(), "the stricter policy changes things"
    status = (await client.get("/v1/status")).json()
    assert status["policy_version"] == "2026.1"
    assert status["projection_version"] == 1
    assert (await client.get("/v1/warnings", params={"limit": 500})).json()["items"] == before
    feed_before = await read_feed(assessment_env.kafka, assessment_env.topics.assessment_changes)
    assert not [c for c in feed_before if c.payload["projection_version"] != 1]

    # Live moves on before the switch: the what-if is evaluated again, from the facts
    # as they are then, into the same version.
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, history[3000:])
    await wait_for(lambda: caught_up(client, 3300), timeout=120, what="the live fold")
    live = await projection_at(url, "proj_v1")
    switching = await assessment_env.cli("versions", "switch", "2")
    assert "version 2 is live" in switching.stdout
    queued = int(switching.stdout.split("change feed: ")[1].split(" ")[0])
    new = await projection_at(url, "proj_v2")
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
    # What it holds now, facts and all, is what a replay of the whole history builds.
    await assessment_env.cli("replay", "--policy", str(strict), "--no-switch")  # v4
    switched, replayed_all = await version_tables(url, 2), await version_tables(url, 4)
    assert len(switched["event_ids"]) == 3300
    assert switched == replayed_all
    async with connected(url) as conn:
        indexes = {
            schema: {r["indexname"] for r in await conn.fetch(
                "SELECT indexname FROM pg_indexes WHERE schemaname = $1", schema
            )}
            for schema in ("proj_v1", "proj_v2")
        }  # fmt: skip
    assert indexes["proj_v2"] == indexes["proj_v1"], "built anew, indexes and all"


async def test_one_worker_and_three_workers_build_the_same_version(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    client = await assessment_env.serving(events(3000, seed=23))
    await client.aclose()
    strict = str(stricter_policy(tmp_path))
    for workers in ("1", "3"):
        await assessment_env.cli("rerule", "--policy", strict, "--no-switch", "--workers", workers)
    url = assessment_env.database_url
    one, three = await version_tables(url, 2), await version_tables(url, 3)
    assert all(one[table] for table in ("warnings", "alerts", "complaints"))
    assert one == three


async def test_a_policy_in_another_time_zone_recomputes_the_facts_months(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    client = await assessment_env.serving(events(2000, seed=26))
    await client.aclose()
    elsewhere = policy_variant(
        tmp_path / "elsewhere.toml",
        ('time_zone = "Asia/Shanghai"', 'time_zone = "America/New_York"'),
        version="2026.1-ny",
    )
    await assessment_env.cli("rerule", "--policy", str(elsewhere), "--no-switch")
    await assessment_env.cli("replay", "--policy", str(elsewhere), "--no-switch")
    url = assessment_env.database_url
    live, reruled, replayed = [await version_tables(url, v) for v in (1, 2, 3)]
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
    client = await assessment_env.serving(history)
    url = assessment_env.database_url
    strict = str(stricter_policy(tmp_path))
    await assessment_env.cli("replay", "--policy", strict, "--no-switch")  # v2
    replayed = await version_tables(url, 2)

    await delete_every_record(assessment_env)
    assert sum((await end_offsets(assessment_env.kafka, assessment_env.topics.events)).values())
    assert await read_topic(assessment_env.kafka, assessment_env.topics.events) == []
    # A what-if with no broker at all: it does not even connect to Kafka.
    unreachable = {"KAFKA_BOOTSTRAP": "127.0.0.1:9"}
    await assessment_env.cli("rerule", "--policy", strict, "--no-switch", extra=unreachable)  # v3
    assert results_of(await version_tables(url, 3)) == results_of(replayed)
    # And a switch: the catch-up reads from the copied positions on, which is nothing.
    switched = await assessment_env.cli("rerule", "--policy", strict)  # v4
    assert "version 4 is live" in switched.stdout
    assert await version_tables(url, 4) == replayed
    assert (await client.get("/v1/status")).json()["projection_version"] == 4
    await client.aclose()


async def test_a_rerule_is_refused_while_a_rebuild_runs(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    client = await assessment_env.serving(events(50, seed=25))
    await client.aclose()
    holder = await asyncpg.connect(assessment_env.database_url)
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", REBUILD_LOCK)
        refused = await assessment_env.cli(
            "rerule", "--policy", str(stricter_policy(tmp_path)), expect=3
        )
    finally:
        await holder.close()
    assert "another rebuild is running" in refused.stdout + refused.stderr
    assert await version_states(assessment_env.database_url) == [(1, "live")]


async def test_a_what_if_holding_results_only_is_never_folded_onto(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    """Its fact tables are empty: a catch-up folded onto them would recompute scopes
    from a fraction of their facts. Only an evaluation from the facts makes it live."""
    client = await assessment_env.serving(events(200, seed=28))
    await client.aclose()
    url = assessment_env.database_url
    await assessment_env.cli("rerule", "--policy", str(stricter_policy(tmp_path)), "--no-switch")
    listed = await assessment_env.cli("versions", "list", extra={"COLUMNS": "200"})
    assert "ready (what-if, results only)" in listed.stdout

    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    assert pool is not None
    reader = HistoryReader(
        kafka=assessment_env.kafka, topic=assessment_env.topics.events, batch_records=100
    )
    try:
        with pytest.raises(VersionError, match="holds results only"):
            await switch_to(
                ports=rebuild_ports(pool, database_url=url),
                reader=reader,
                version_number=2,
                changes_topic=assessment_env.topics.assessment_changes,
            )
    finally:
        await pool.close()
    assert await version_states(url) == [(1, "live"), (2, "ready")]
