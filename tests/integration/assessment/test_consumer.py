"""The live consumer on the real stack: folds exactly once, survives kill -9, shares
the work between two instances, and dead-letters poison."""

from __future__ import annotations

import random

import pytest

from bench.generator import Generator
from shared import topics
from tests.support.assessment_env import AssessmentEnv, caught_up, oracle_rows, records_folded
from tests.support.kafka import publish_raw, publish_recorded
from tests.support.projections import folded_so_far, live_projection
from tests.support.topics import read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def history(n: int, seed: int) -> list[dict[str, object]]:
    events = list(Generator(seed=seed, units=12, staff_per_unit=5).events(n, span_days=200))
    # Upstream retries: about 3% of events arrive twice, some much later.
    again = random.Random(seed).sample(events, k=n // 30)
    return events + again


async def test_poison_goes_to_the_dead_letter_topic_and_the_consumer_carries_on(
    assessment_env: AssessmentEnv,
) -> None:
    await assessment_env.create_topics()
    events = history(200, seed=3)
    await publish_raw(assessment_env.kafka, assessment_env.topics.events, b"\xffnot json")
    await publish_raw(  # headers FastStream's own parser would choke on
        assessment_env.kafka,
        assessment_env.topics.events,
        b'{"id": 1}',
        headers=[("x-binary", b"\xff\xfe"), ("x-null", None)],
    )
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, events)
    service = assessment_env.start().wait_ready()

    async with assessment_env.client(service) as client:
        await wait_for(lambda: caught_up(client, len(events) + 2), timeout=60, what="catch-up")

    dead = await read_topic(assessment_env.kafka, assessment_env.topics.assessment_deadletter)
    assert sorted(r.body for r in dead) == [b'{"id": 1}', b"\xffnot json"]
    reasons = {r.value: r.header(topics.HEADER_DLQ_REASON) for r in dead}
    assert reasons == {b"\xffnot json": b"unparseable", b'{"id": 1}': b"unknown_type"}
    assert (
        dead[0].header(topics.HEADER_DLQ_ORIGIN).startswith(assessment_env.topics.events.encode())
    )
    stored = await live_projection(assessment_env.database_url)
    assert stored.rows() == oracle_rows(events)


async def test_kill_9_mid_stream_then_restart_loses_and_doubles_nothing(
    assessment_env: AssessmentEnv,
) -> None:
    await assessment_env.create_topics()
    events = history(4000, seed=5)
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, events)
    small_batches = {"ASSESSMENT_BATCH_MAX": "50", "ASSESSMENT_BATCH_WAIT_MS": "0"}

    first = assessment_env.start(extra=small_batches).wait_ready()
    progress = await wait_for(
        lambda: folded_so_far(assessment_env.database_url),
        until=lambda n: n >= 300,
        timeout=60,
        interval=0.05,
        what="some batches folded",
    )
    first.kill()
    after_kill = await folded_so_far(assessment_env.database_url)
    assert progress <= after_kill < len(events), "killed mid-stream"

    second = assessment_env.start(extra=small_batches).wait_ready()
    async with assessment_env.client(second) as client:
        await wait_for(lambda: caught_up(client, len(events)), timeout=120, what="catch-up")

    stored = await live_projection(assessment_env.database_url)
    assert stored.rows() == oracle_rows(events)


async def test_two_instances_in_one_group_give_the_result_of_one(
    assessment_env: AssessmentEnv,
) -> None:
    await assessment_env.create_topics()
    events = history(3000, seed=9)
    small_batches = {"ASSESSMENT_BATCH_MAX": "100"}
    one = assessment_env.start(extra=small_batches)
    two = assessment_env.start(extra=small_batches)
    one.wait_ready()
    two.wait_ready()
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, events)

    async with assessment_env.client(one) as client:
        await wait_for(lambda: caught_up(client, len(events)), timeout=120, what="catch-up")
        metrics = [(await client.get("/metrics")).text]
    async with assessment_env.client(two) as client:
        metrics.append((await client.get("/metrics")).text)

    stored = await live_projection(assessment_env.database_url)
    assert stored.rows() == oracle_rows(events)
    for text in metrics:  # the group split the partitions: both instances folded events
        assert records_folded(text) > 0
