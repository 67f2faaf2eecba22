"""Two assessment instances (real processes, one consumer group) fold one history in
parallel and give exactly what the domain oracle gives, even when every unit's and
every staff member's events are spread over all partitions (so the two instances
meet on the same complaints, staff months and units all the time), and when copies of
one event sit on two partitions, some with other content recorded earlier."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bench.generator import Generator
from tests.support.assessment_env import AssessmentEnv, caught_up, oracle_rows, records_folded
from tests.support.kafka import publish_recorded
from tests.support.projections import connected, live_schema, ranking_counts, read_projection
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
PARTITIONS = 3
LATER = "2026-11-01T00:00:00Z"
EARLIER = "2026-10-31T23:00:00Z"


def spread_history(n: int, seed: int) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
    """(what each partition gets, the copies that stand). Events go round-robin, not
    by unit; about 3% come again on another partition with the same content, and
    some complaint filings come again on another partition with another unit,
    recorded earlier: that copy stands, wherever and whenever it is folded."""
    rng = random.Random(seed)
    events = [
        {**e, "recorded_at": LATER}
        for e in Generator(seed=seed, units=6, staff_per_unit=4).events(n, span_days=200)
    ]
    partitions: list[list[dict[str, Any]]] = [[] for _ in range(PARTITIONS)]
    home: dict[str, int] = {}
    for index, event in enumerate(events):
        home[event["id"]] = index % PARTITIONS
        partitions[index % PARTITIONS].append(event)
    again = rng.sample(events, k=n // 30)
    for event in again:
        partitions[(home[event["id"]] + 1) % PARTITIONS].append(event)
    standing = {e["id"]: e for e in events}
    twice = {e["id"] for e in again}
    filings = [e for e in events if e["type"] == "complaint.filed" and e["id"] not in twice]
    for event in rng.sample(filings, k=min(20, len(filings))):
        moved = {**event, "unit_id": "unit-moved", "recorded_at": EARLIER}
        partitions[(home[event["id"]] + 2) % PARTITIONS].append(moved)
        standing[event["id"]] = moved
    for records in partitions:
        rng.shuffle(records)  # copies arrive before or after the original
    return partitions, list(standing.values())


async def test_two_instances_fold_a_history_spread_over_partitions_exactly(
    assessment_env: AssessmentEnv,
) -> None:
    await assessment_env.create_topics()
    partitions, standing = spread_history(3000, seed=12)
    small_batches = {"ASSESSMENT_BATCH_MAX": "100"}
    one = assessment_env.start(extra=small_batches)
    two = assessment_env.start(extra=small_batches)
    one.wait_ready()
    two.wait_ready()
    for partition, records in enumerate(partitions):
        await publish_recorded(
            assessment_env.kafka, assessment_env.topics.events, records, partition=partition
        )
    total = sum(len(records) for records in partitions)

    metrics = []
    async with assessment_env.client(one) as client:
        await wait_for(lambda: caught_up(client, total), timeout=180, what="catch-up")
        metrics.append((await client.get("/metrics")).text)
    async with assessment_env.client(two) as client:
        metrics.append((await client.get("/metrics")).text)

    async with connected(assessment_env.database_url) as conn:
        schema = await live_schema(conn)
        projection = await read_projection(conn, schema)
        kept, counted = await ranking_counts(conn, schema)
        parked = await conn.fetchval(
            "SELECT count(*) FROM assessment.deadletters WHERE reason = 'conflicting_duplicate'"
        )
    assert projection.rows() == oracle_rows(standing)
    assert projection.events == len(standing)  # each pair counted once
    assert kept == counted
    assert parked == 20  # the later copy of each moved filing, once
    for text in metrics:  # both instances folded: they ran side by side
        assert records_folded(text) > 0
