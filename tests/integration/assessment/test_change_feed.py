"""The change feed (assessment.changes.v1) on the real stack, read as a subscriber
reads it: every warning and alert is issued once by ce_id, also across a kill -9;
a revocation is a revoked event; a replay under another policy publishes exactly
the difference; the feed alone rebuilds what the query API shows."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.assessment.domain.policy import default_policy_path
from tests.support.assessment_env import AssessmentEnv, caught_up, oracle
from tests.support.events import complaint_filed, complaint_resolved, to_json
from tests.support.feed import (
    TYPES,
    Change,
    api_view,
    history_of,
    outbox_drained,
    read_feed,
    view_from_feed,
)
from tests.support.kafka import publish_recorded
from tests.support.policies import LOWER_ATTENDANCE_LIMIT, policy_variant
from tests.support.projections import folded_so_far
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def history(n: int, seed: int) -> list[dict[str, object]]:
    from bench.generator import Generator

    return list(Generator(seed=seed, units=8, staff_per_unit=4).events(n, span_days=200))


async def settled_feed(env: AssessmentEnv, client: httpx.AsyncClient, total: int) -> list[Change]:
    await wait_for(lambda: caught_up(client, total), timeout=120, what="catch-up")
    await wait_for(lambda: outbox_drained(env.database_url), timeout=60, what="outbox relayed")
    return await read_feed(env.kafka, env.topics.assessment_changes)


def assert_well_formed(changes: list[Change]) -> None:
    for change in changes:
        assert change.type in TYPES
        assert change.subject == change.payload["id"]
        assert change.key == change.payload["unit_id"]
    # Per warning or alert, the distinct events tell a consistent story: issued only
    # when it did not stand, revoked only when it did.
    for key, story in history_of(changes).items():
        standing = False
        for step in story:
            if step == "issued":
                assert not standing, (key, story)
                standing = True
            elif step == "revoked":
                assert standing or story[0] == "revoked", (key, story)
                standing = False


async def test_every_warning_and_alert_is_issued_once_by_ce_id_across_a_kill_9(
    assessment_env: AssessmentEnv,
) -> None:
    await assessment_env.create_topics()
    events = history(3000, seed=21)
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, events)
    small_batches = {"ASSESSMENT_BATCH_MAX": "50", "ASSESSMENT_BATCH_WAIT_MS": "0"}

    first = assessment_env.start(extra=small_batches).wait_ready()
    await wait_for(
        lambda: read_feed(assessment_env.kafka, assessment_env.topics.assessment_changes),
        until=lambda feed: len(feed) >= 20,
        timeout=60,
        interval=0.05,
        what="some changes on the feed",
    )
    folded = await folded_so_far(assessment_env.database_url)
    first.kill()
    assert folded < len(events), "killed mid-stream"
    second = assessment_env.start(extra=small_batches).wait_ready()
    async with assessment_env.client(second) as client:
        feed = await settled_feed(assessment_env, client, len(events))
        api = await api_view(client)

    assert_well_formed(feed)
    expected = oracle(events)
    stories = history_of(feed)
    results = [("warning", w) for w in expected.warnings] + [("alert", a) for a in expected.alerts]
    for kind, item in results:
        story = stories[(kind, item.id)]
        if item.status == "active":
            assert story[-1] in {"issued", "reruled"}, (item, story)
        if "revoked" not in story:  # never withdrawn on the way: issued exactly once
            assert story.count("issued") == (item.status == "active"), (item, story)
    # The feed alone rebuilds the query API's warnings and alerts, revoked ones included.
    view = view_from_feed(feed)
    assert view == api
    assert len(api) == len(expected.warnings) + len(expected.alerts)
    active = {key for key, item in view.items() if item["status"] == "active"}
    assert active == {("warning", w.id) for w in expected.warnings if w.status == "active"} | {
        ("alert", a.id) for a in expected.alerts if a.status == "active"
    }


async def test_a_revocation_is_published_as_revoked(assessment_env: AssessmentEnv) -> None:
    await assessment_env.create_topics()
    filed = complaint_filed(unit_id="qsb/licensing", staff_id="E1024")
    complaint = {"complaint_id": filed.data.complaint_id, "outcome": "substantiated"}
    upheld = complaint_resolved(unit_id="qsb/licensing", data=complaint)
    service = assessment_env.start().wait_ready()
    topic = assessment_env.topics.events
    await publish_recorded(assessment_env.kafka, topic, [to_json(filed), to_json(upheld)])
    async with assessment_env.client(service) as client:
        feed = await settled_feed(assessment_env, client, 2)
        assert [c.type for c in feed] == ["assessment.warning.issued"]
        (warning,) = list((await api_view(client)).values())
        assert feed[0].item == warning
        assert feed[0].key == "qsb/licensing"

        follower = tail(assessment_env)  # `assessment changes tail`, following from now
        await wait_for(
            lambda: asyncio.to_thread(follower.stderr.readline),  # type: ignore[union-attr]
            until=lambda line: "following" in line,
            timeout=60,
            what="the tail positioned",
        )
        overturned = complaint_resolved(
            unit_id="qsb/licensing",
            occurred_at="2026-02-02T10:00:00+08:00",
            data={**complaint, "outcome": "unfounded"},
        )
        await publish_recorded(assessment_env.kafka, topic, [to_json(overturned)])
        feed = await settled_feed(assessment_env, client, 3)
        api = await api_view(client)
        metrics = await wait_for(
            lambda: client.get("/metrics"),
            until=lambda answer: "assessment_outbox_published_total 2.0" in answer.text,
            timeout=30,
            what="the relay's records on /metrics",
        )
        pending = f'assessment_outbox_pending{{topic="{assessment_env.topics.assessment_changes}"}}'
        assert f"{pending} 0.0" in metrics.text

    assert [c.type for c in feed] == ["assessment.warning.issued", "assessment.warning.revoked"]
    followed, _ = await asyncio.to_thread(follower.communicate, timeout=60)
    assert follower.returncode == 0
    (line,) = [json.loads(text) for text in followed.splitlines()]
    assert line["ce_type"] == "assessment.warning.revoked"
    assert line["ce_id"] == feed[1].ce_id
    assert line["key"] == "qsb/licensing"
    assert line["data"] == feed[1].payload
    everything = tail(assessment_env, "--from-beginning", "--limit", "2")
    printed, _ = await asyncio.to_thread(everything.communicate, timeout=60)
    assert [json.loads(text)["ce_id"] for text in printed.splitlines()] == [c.ce_id for c in feed]
    revoked = feed[1]
    assert revoked.subject == warning["id"]
    assert revoked.payload["status"] == "revoked"
    assert revoked.item == api[("warning", warning["id"])]
    assert revoked.ce_id != feed[0].ce_id
    assert revoked.payload["projection_version"] == feed[0].payload["projection_version"]


def tail(env: AssessmentEnv, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # our own console script, as a subscriber would run it
        [str(BIN / "assessment"), "changes", "tail", "--limit", "1", *args],
        env=env.processes[0].env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def expected_changes(
    before: dict[tuple[str, str], dict[str, Any]], after: dict[tuple[str, str], dict[str, Any]]
) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """What the switch must publish, from the query API before and after it."""

    def seen(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k != "policy_version"}

    changes: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        was = old is not None and old["status"] == "active"
        now = new is not None and new["status"] == "active"
        if new is None:
            if was:
                assert old is not None
                changes[key] = ("revoked", {**old, "status": "revoked"})
        elif now and not was:
            changes[key] = ("issued", new)
        elif (was and not now) or old is None:
            changes[key] = ("revoked", new)
        elif seen(old) != seen(new):
            changes[key] = ("reruled", new)
    return changes


async def test_a_replay_under_another_policy_publishes_exactly_the_difference(
    assessment_env: AssessmentEnv, tmp_path: Path
) -> None:
    await assessment_env.create_topics()
    events = history(2000, seed=33)
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, events)
    service = assessment_env.start().wait_ready()
    strict = policy_variant(
        tmp_path / "strict.toml",
        LOWER_ATTENDANCE_LIMIT,
        ("warnings_per_collective = 3", "warnings_per_collective = 2"),
        version="2026.1-strict",
    )
    async with assessment_env.client(service) as client:
        feed = await settled_feed(assessment_env, client, len(events))
        for policy, version in ((strict, "2026.1-strict"), (default_policy_path(), "2026.1")):
            before = await api_view(client)
            await assessment_env.cli("replay", "--policy", str(policy))
            status = (await client.get("/v1/status")).json()
            assert status["policy_version"] == version
            now = await settled_feed(assessment_env, client, len(events))
            after = await api_view(client)

            old = {(c.partition, c.offset) for c in feed}
            published = [c for c in now if (c.partition, c.offset) not in old]
            assert {c.payload["projection_version"] for c in published} == {
                status["projection_version"]
            }
            want = expected_changes(before, after)
            got = {(c.kind, c.subject): (c.change, c.item) for c in published}
            assert len(got) == len(published), "one change per warning or alert"
            assert got == want
            # stricter: more warnings and alerts; back to the default: they go again
            assert ("issued" if policy == strict else "revoked") in {c.change for c in published}
            # A subscriber's view still matches the API (a warning whose substance did not
            # change keeps the policy version it was last published with).
            view = view_from_feed(now)
            for key, item in after.items():
                assert {**view[key], "policy_version": None} == {**item, "policy_version": None}
            assert all(view[key]["status"] == "revoked" for key in view.keys() - after.keys())
            feed = now
