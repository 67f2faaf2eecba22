"""A three-node KRaft cluster (stack/kafka.sh, KAFKA_BROKERS=3) loses a node under
steady intake: kill -9 of the node that leads events.v1's partitions, while a client
sends a seeded history over HTTP and retries each batch until its 202, as upstream
systems do. Intake waits through the leader election (a few requests may answer 503,
nothing else), nothing accepted is lost, the assessment keeps folding with the node
down, and once the node is back every partition has all its replicas in sync again."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from bench.generator import Generator
from services.assessment.adapters.versions import event_count
from tests.chaos.load import Load
from tests.chaos.parts import INTAKE_TOKEN, System
from tests.chaos.run import MAX_EVENTS, Report, assessment_status, compare_outcome
from tests.support.projections import live_schema
from tests.support.topics import partition_states, topic_config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

BEFORE_KILL = 200  # events accepted before the kill
WHILE_DOWN = 300  # events accepted after it, before the node is started again
# Requests that may answer 503 from the kill to the end: intake waits up to 5 s for the
# acks, the cluster fences a silent node after 4 s and elects new leaders; a request
# sent in that window may time out (503), the client retries after a back-off.
MAX_503 = 4


async def test_a_cluster_loses_a_node_under_load_and_takes_it_back(tmp_path: Path) -> None:
    system = System.create(f"cluster-{uuid.uuid4().hex[:8]}", logs=tmp_path, brokers=3)
    try:
        await system.start()
        kafka, events = system.brokers.kafka, system.topics.events

        # Three copies of every partition, of which two must hold an acknowledged write.
        replicas = {len(p.replicas) for p in await partition_states(kafka, [events])}
        assert replicas == {3}
        assert (await topic_config(kafka, events))["min.insync.replicas"] == "2"

        load = Load(
            history=Generator(seed=11, units=12, staff_per_unit=5).events(
                MAX_EVENTS, span_days=600
            ),
            minimum=BEFORE_KILL + WHILE_DOWN,
            batch=10,
            pause_s=0.1,
        )
        sending = asyncio.create_task(load.run(system.intake_url, INTAKE_TOKEN))
        try:
            await accepted_at_least(load, BEFORE_KILL)

            victim, which = await system.brokers.victim(events)
            first_answer = len(load.answers)
            victim.kill()
            await accepted_at_least(load, len(load.accepted) + WHILE_DOWN)

            # The node is still down (its replicas are out of sync), yet the assessment
            # folds what intake accepted meanwhile.
            assert await system.brokers.under_replicated() > 0, which
            accepted_while_down = len(load.accepted)
            await wait_for(
                lambda: folded(system),
                until=lambda n: n >= accepted_while_down,
                timeout=120,
                what=f"the assessment folding with {which} down",
            )

            await asyncio.to_thread(victim.start)
            await wait_for(
                system.brokers.under_replicated,
                until=lambda n: n == 0,
                timeout=120,
                what=f"{which} back in sync on every partition",
            )
        finally:
            load.faults_over.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(sending, timeout=120)

        since_kill = Counter(answer.status for answer in load.answers[first_answer:])
        slowest = max(answer.seconds for answer in load.answers[first_answer:])
        print(f"killed {which}; intake since: {dict(since_kill)}, slowest {slowest:.1f} s")
        assert set(since_kill) <= {"202", "503"}, since_kill
        assert since_kill["503"] <= MAX_503, since_kill

        await wait_for(
            lambda: assessment_status(system),
            until=lambda status: status is not None and status["lag"] == 0,
            timeout=120,
            what="the assessment to fold everything",
        )
        report = Report(seed=11, plan="cluster", brokers=3)
        await compare_outcome(system, load, report)
        summary = "\n".join(report.lines())
        assert report.accepted >= BEFORE_KILL + WHILE_DOWN, summary
        assert (report.lost_in_log, report.lost_in_projection) == (0, 0), summary
        assert report.doubled_in_projection == 0, summary
        assert report.unaccepted_in_log == 0, summary
        assert report.refused == [], summary
        assert report.matches_oracle, summary
    finally:
        await asyncio.to_thread(system.stop)


async def accepted_at_least(load: Load, count: int) -> None:
    """Wait while the load runs until intake has accepted `count` events."""
    deadline = time.monotonic() + 120
    while len(load.accepted) < count:
        assert time.monotonic() < deadline, f"only {len(load.accepted)} of {count} accepted"
        await asyncio.sleep(0.1)


async def folded(system: System) -> int:
    """Events the live projection holds."""
    conn = await system.connect()
    try:
        return await event_count(conn, await live_schema(conn))
    finally:
        await conn.close()
