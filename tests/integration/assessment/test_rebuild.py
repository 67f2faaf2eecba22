"""Replay without downtime: the rebuilt version equals the live one, the switch is
invisible to a polling client, a crashed rebuild harms nothing, a concurrent one is
refused, and a new policy yields the new policy's warnings."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from bench.generator import Generator
from services.assessment.adapters.versions import REBUILD_LOCK
from services.assessment.domain.event_facts import facts_from_events
from services.assessment.domain.policy import default_policy_path, load_policy
from services.assessment.domain.reference import evaluate_history
from shared.catalogue import WarningRule
from shared.events import parse_recorded
from tests.support.assessment_env import AssessmentEnv, caught_up
from tests.support.kafka import publish_recorded
from tests.support.policies import stricter_policy
from tests.support.processes import RUN_TAG, tagged_processes
from tests.support.projections import (
    connected,
    projection_at,
    ranking_counts,
    version_states,
    versions_table,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def events(n: int, seed: int) -> list[dict[str, object]]:
    return list(Generator(seed=seed, units=10, staff_per_unit=5).events(n, span_days=300))


async def rows_of(url: str, schema: str) -> tuple[object, ...]:
    return (await projection_at(url, schema)).rows()


VERSIONS = ("proj_v1", "proj_v2")


async def ranking_of(url: str, schema: str) -> list[tuple[object, ...]]:
    async with connected(url) as conn:
        kept, counted = await ranking_counts(conn, schema)
    assert kept, "the history has something to rank"
    assert kept == counted
    return kept


async def live_served_as_before_and_the_next_replay_succeeds(
    env: AssessmentEnv, client: httpx.AsyncClient, before: list[object]
) -> None:
    """After a rebuild of version 2 that did not finish: live still answers as it did,
    and the next replay discards the abandoned build and goes live as version 3, equal
    to version 1."""
    during = await client.get("/v1/warnings", params={"limit": 500})
    assert during.status_code == 200
    assert during.json()["items"] == before

    again = await env.cli("replay")
    await client.aclose()
    assert "discarded abandoned builds: [2]" in again.stdout
    assert await version_states(env.database_url) == [(1, "ready"), (3, "live")]
    assert await rows_of(env.database_url, "proj_v3") == await rows_of(env.database_url, "proj_v1")


async def test_rebuild_equals_live_and_the_switch_is_invisible_to_readers(
    assessment_env: AssessmentEnv,
) -> None:
    history = events(3000, seed=11)
    client = await assessment_env.serving(history)
    first_page = (await client.get("/v1/warnings", params={"limit": 500})).json()["items"]
    assert first_page, "the history produces warnings"

    answers: list[tuple[int, list[str], int | None]] = []
    done = asyncio.Event()

    async def poll() -> None:
        while not done.is_set():
            warnings = await client.get("/v1/warnings", params={"limit": 500})
            status = await client.get("/v1/status")
            version = status.json()["projection_version"] if status.status_code == 200 else None
            ids = (
                [w["id"] for w in warnings.json().get("items", [])]
                if warnings.status_code == 200
                else []
            )
            answers.append((warnings.status_code, ids, version))

    poller = asyncio.create_task(poll())
    try:
        replayed = await assessment_env.cli("replay", extra={"ASSESSMENT_REBUILD_BATCH": "500"})
    finally:
        done.set()
        await poller
    await client.aclose()

    assert "version 2 is live" in replayed.stdout
    assert await version_states(assessment_env.database_url) == [(1, "ready"), (2, "live")]
    assert await rows_of(assessment_env.database_url, "proj_v2") == await rows_of(
        assessment_env.database_url, "proj_v1"
    )
    # The ranking's counts, kept by the database: by the live fold in v1 (triggers), in
    # v2 counted once, set-based, after the bulk evaluation; they equal each other.
    kept = {schema: await ranking_of(assessment_env.database_url, schema) for schema in VERSIONS}
    assert kept["proj_v2"] == kept["proj_v1"]
    expected = [w["id"] for w in first_page]
    assert answers, "the client polled during the rebuild"
    assert all(code == 200 and ids == expected for code, ids, _ in answers), answers[:3]
    assert {version for *_, version in answers} <= {1, 2}


async def test_the_consumer_folds_into_the_new_version_after_the_switch(
    assessment_env: AssessmentEnv,
) -> None:
    history = events(1000, seed=12)
    client = await assessment_env.serving(history)
    await assessment_env.cli("replay")

    later = list(Generator(seed=99, units=10, staff_per_unit=5).events(300, span_days=30))
    for event in later:
        event["id"] = f"later-{event['id']}"
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, later)
    await wait_for(
        lambda: caught_up(client, len(history) + len(later)), timeout=60, what="catch-up"
    )
    await client.aclose()

    v1 = await rows_of(assessment_env.database_url, "proj_v1")
    v2 = await rows_of(assessment_env.database_url, "proj_v2")
    async with connected(assessment_env.database_url) as conn:
        counts = [
            await conn.fetchval(f"SELECT count(*) FROM {schema}.commendations")
            for schema in ("proj_v1", "proj_v2")
        ]
    expected_commendations = sum(e["type"] == "commendation.recorded" for e in history + later)
    assert counts[1] == expected_commendations, "the live (new) version got the later events"
    assert counts[0] < counts[1], "the old version no longer receives events"
    assert v1 != v2
    # The rebuild counted its results once; the live fold keeps counting them after it.
    await ranking_of(assessment_env.database_url, "proj_v2")


async def test_a_crashed_rebuild_leaves_live_serving_and_can_run_again(
    assessment_env: AssessmentEnv,
) -> None:
    history = events(4000, seed=13)
    client = await assessment_env.serving(history)
    before = (await client.get("/v1/warnings", params={"limit": 500})).json()["items"]

    tag = uuid.uuid4().hex
    crashing = assessment_env.cli_process(
        "replay", extra={"ASSESSMENT_REBUILD_BATCH": "100", RUN_TAG: tag}
    )

    async def building_with_rows() -> bool:
        table = await versions_table(assessment_env.database_url)
        if not any(state == "building" for _, state, _ in table):
            return False
        conn = await asyncpg.connect(assessment_env.database_url)
        try:
            return bool(await conn.fetchval("SELECT count(*) > 0 FROM proj_v2.positions"))
        except asyncpg.UndefinedTableError:  # registered, schema not created yet
            return False
        finally:
            await conn.close()

    await wait_for(building_with_rows, timeout=120, interval=0.05, what="rebuild under way")
    assert len(tagged_processes(tag)) > 1, "the decode workers run"
    crashing.kill()  # SIGKILL: no clean-up code runs
    crashing.wait(timeout=30)
    # Its decode workers follow it (they are not left behind as orphans).
    await wait_for(
        lambda: asyncio.to_thread(tagged_processes, tag),
        until=lambda left: not left,
        timeout=15,
        what="the crashed rebuild's worker processes to exit",
    )

    assert await versions_table(assessment_env.database_url) == [
        (1, "live", "proj_v1"),
        (2, "building", "proj_v2"),
    ]
    await live_served_as_before_and_the_next_replay_succeeds(assessment_env, client, before)


async def test_a_rebuild_that_loses_its_lock_stops_without_switching(
    assessment_env: AssessmentEnv,
) -> None:
    history = events(4000, seed=16)
    client = await assessment_env.serving(history)
    before = (await client.get("/v1/warnings", params={"limit": 500})).json()["items"]
    doomed = assessment_env.cli_process("replay", extra={"ASSESSMENT_REBUILD_BATCH": "100"})

    async def lock_holder() -> int | None:
        conn = await asyncpg.connect(assessment_env.database_url)
        try:
            pid: int | None = await conn.fetchval(
                """SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1
                      AND a.datname = current_database()""",
                REBUILD_LOCK,
            )
            try:  # mid-rebuild: the load phase has stored positions
                loading = await conn.fetchval("SELECT count(*) > 0 FROM proj_v2.positions")
            except asyncpg.UndefinedTableError:
                loading = False
            return pid if loading else None
        finally:
            await conn.close()

    holder = await wait_for(lock_holder, timeout=120, interval=0.05, what="a rebuild under way")
    admin = await asyncpg.connect(assessment_env.database_url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", holder)
    finally:
        await admin.close()
    output, _ = await asyncio.to_thread(doomed.communicate, timeout=120)

    assert doomed.returncode == 4, output
    assert "lost its lock" in output
    assert await version_states(assessment_env.database_url) == [(1, "live"), (2, "failed")]
    await live_served_as_before_and_the_next_replay_succeeds(assessment_env, client, before)


async def test_a_second_rebuild_is_refused_while_one_runs(assessment_env: AssessmentEnv) -> None:
    client = await assessment_env.serving(events(50, seed=14))
    await client.aclose()
    holder = await asyncpg.connect(assessment_env.database_url)
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", REBUILD_LOCK)
        refused = await assessment_env.cli("replay", expect=3, seconds=120)
    finally:
        await holder.close()
    assert "another rebuild is running" in refused.stdout + refused.stderr
    assert await version_states(assessment_env.database_url) == [(1, "live")]


async def test_a_policy_change_yields_the_new_policys_warnings(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    history = events(3000, seed=15)
    client = await assessment_env.serving(history)
    strict = stricter_policy(tmp_path)
    replayed = await assessment_env.cli("replay", "--policy", str(strict))

    status = (await client.get("/v1/status")).json()
    warnings = []
    cursor = None
    while True:
        page = (
            await client.get(
                "/v1/warnings", params={"limit": 500, **({"cursor": cursor} if cursor else {})}
            )
        ).json()
        warnings.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    await client.aclose()

    policy = load_policy(strict)
    parsed = [
        parse_recorded(orjson.dumps({**e, "recorded_at": "2026-11-01T00:00:00Z"})) for e in history
    ]
    facts = facts_from_events(parsed)
    expected = evaluate_history(
        filings=facts.filings, verdicts=facts.verdicts, findings=facts.findings, policy=policy
    )
    default = evaluate_history(
        filings=facts.filings,
        verdicts=facts.verdicts,
        findings=facts.findings,
        policy=load_policy(default_policy_path()),
    )
    attendance = [w for w in warnings if w["rule"] == WarningRule.ATTENDANCE]
    expected_attendance = [w for w in expected.warnings if w.rule is WarningRule.ATTENDANCE]
    assert status["policy_version"] == "2026.1-strict"
    assert {w["policy_version"] for w in warnings} == {"2026.1-strict"}
    assert sorted(w["id"] for w in warnings) == sorted(w.id for w in expected.warnings)
    assert len(expected_attendance) > len(
        [w for w in default.warnings if w.rule is WarningRule.ATTENDANCE]
    ), "a lower limit issues more attendance warnings"
    assert len(attendance) == len(expected_attendance)
    assert "added" in replayed.stdout


async def test_a_what_if_leaves_live_untouched_and_a_later_switch_catches_up_and_feeds(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    history = events(3000, seed=17)
    client = await assessment_env.serving(history)
    before = (await client.get("/v1/warnings", params={"limit": 500})).json()["items"]
    strict = stricter_policy(tmp_path)
    what_if = await assessment_env.cli("replay", "--policy", str(strict), "--no-switch")
    assert "version 2 is built, not live" in what_if.stdout
    assert "versions switch 2" in what_if.stdout
    assert "change feed: 0 changes" in what_if.stdout
    assert await version_states(assessment_env.database_url) == [(1, "live"), (2, "ready")]
    assert (await client.get("/v1/status")).json()["policy_version"] == "2026.1"
    assert (await client.get("/v1/warnings", params={"limit": 500})).json()["items"] == before

    # Live folds more; the ready version has not seen it and must catch up at the switch.
    more = list(Generator(seed=18, units=10, staff_per_unit=5).events(300, span_days=300))
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, more)
    await wait_for(lambda: caught_up(client, 3300), timeout=120, what="live catch-up")

    switching = await assessment_env.cli("versions", "switch", "2")
    assert "version 2 is live" in switching.stdout
    queued = int(switching.stdout.split("change feed: ")[1].split(" ")[0])
    assert queued > 0, "the stricter policy's new warnings reach the change feed"
    assert await version_states(assessment_env.database_url) == [(1, "ready"), (2, "live")]
    status = (await client.get("/v1/status")).json()
    assert status["policy_version"] == "2026.1-strict"
    await wait_for(lambda: caught_up(client, 3300), timeout=60, what="the switched version")

    refused = await assessment_env.cli("versions", "switch", "2", expect=1, seconds=120)
    await client.aclose()
    assert "only a ready version" in refused.stdout + refused.stderr
