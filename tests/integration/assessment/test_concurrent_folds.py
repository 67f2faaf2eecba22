"""Live folds of two instances at once, interleaved by hand on the real database: each
fold is a live write transaction held open at a chosen point, and what the other one
waits for is read from pg_locks. A fold waits where its work meets another's (a
complaint, a unit, an event's identity, a partition) and nowhere else, and the result
equals the pure oracle's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest

from services.assessment.adapters import versions
from services.assessment.adapters.fold_locks import (
    PARTITION_LOCK_CLASS,
    SCOPE_LOCK_CLASS,
    UNIT_LOCK_CLASS,
)
from services.assessment.adapters.writer import ProjectionWriter
from services.assessment.domain.policy import load_default_policy
from services.assessment.domain.records import Record
from services.assessment.service_layer.folding import Folded, fold
from shared.events import Event, dump_event, stamp
from tests.support.events import complaint_filed, complaint_resolved
from tests.support.projections import migrated_version, ranking_counts, read_projection
from tests.support.waiting import wait_for
from tests.unit.assessment.service_layer.test_folding_properties import oracle_of

pytestmark = pytest.mark.integration
POLICY = load_default_policy()
TOPIC = "events.v1"
CHANGES = "assessment.changes.v1"
RECORDED = datetime(2026, 3, 1, tzinfo=UTC)


def record(event: Event, partition: int, offset: int, recorded_at: datetime = RECORDED) -> Record:
    value = dump_event(stamp(event, recorded_at=recorded_at))
    return Record(TOPIC, partition, offset, event.unit_id.encode(), value)


@dataclass
class Live:
    pool: asyncpg.Pool
    writer: ProjectionWriter
    schema: str
    version: int
    holds: list[HeldFold] = field(default_factory=list)

    async def fold(self, records: Sequence[Record]) -> Folded:
        async with self.writer.live() as tx:
            return await fold(tx, records)

    def hold(self, records: Sequence[Record]) -> HeldFold:
        """A live fold of `records` whose transaction stays open until released."""
        held = HeldFold(self, records)
        self.holds.append(held)
        return held

    async def waiting(self) -> list[tuple[str, int | None, int | None]]:
        """The locks transactions on this database wait for: (type, class, key)."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT l.locktype, l.classid::bigint, l.objid::bigint
                     FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                    WHERE NOT l.granted AND a.datname = current_database()"""
            )
        return [(r["locktype"], r["classid"], r["objid"]) for r in rows]

    async def advisory(self, lock_class: int, key: str) -> tuple[str, int, int]:
        """How pg_locks shows a fold lock (fold_locks.py) on `key`."""
        async with self.pool.acquire() as conn:
            objid = await conn.fetchval("SELECT hashtext($1)::oid::bigint", key)
        return ("advisory", lock_class, objid)

    async def outbox_keys(self) -> list[tuple[bytes, list[str]]]:
        """The change feed's outbox in id order: (key, evidence of the item)."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT key, value FROM assessment.outbox WHERE topic = $1 ORDER BY id", CHANGES
            )
        return [(r["key"], orjson.loads(r["value"])["evidence"]) for r in rows]


class HeldFold:
    def __init__(self, live: Live, records: Sequence[Record]) -> None:
        self.folded = asyncio.Event()
        self.release = asyncio.Event()
        self.task = asyncio.create_task(self._run(live, records))

    async def _run(self, live: Live, records: Sequence[Record]) -> Folded:
        async with live.writer.live() as tx:
            result = await fold(tx, records)
            self.folded.set()
            await self.release.wait()
        return result

    async def done(self) -> Folded:
        self.release.set()
        return await self.task


@pytest.fixture
async def live(scratch_database_url: str) -> AsyncIterator[Live]:
    pool = await asyncpg.create_pool(scratch_database_url, min_size=1, max_size=8)
    assert pool is not None
    async with pool.acquire() as conn:
        version = await migrated_version(conn, policy=POLICY, state="live")
    writer = ProjectionWriter(pool, deadletter_topic="assessment.deadletter.v1",
                              changes_topic=CHANGES)  # fmt: skip
    setup = Live(pool, writer, version.schema_name, version.version)
    try:
        yield setup
    finally:
        for held in setup.holds:
            held.release.set()
        await asyncio.gather(*(held.task for held in setup.holds), return_exceptions=True)
        await pool.close()


async def projection_equals_oracle(live: Live, events: Sequence[Event]) -> None:
    async with live.pool.acquire() as conn:
        stored = await read_projection(conn, live.schema)
        kept, counted = await ranking_counts(conn, live.schema)
    assert stored.rows() == oracle_of(list(events))
    assert stored.events == len({e.key for e in events})
    assert kept == counted


async def still_waiting(task: asyncio.Task[Any], seconds: float = 0.3) -> bool:
    await asyncio.sleep(seconds)
    return not task.done()


async def test_a_fold_waits_on_the_complaint_another_holds_and_not_on_a_disjoint_one(
    live: Live,
) -> None:
    filed = complaint_filed(unit_id="taxi/fleet-3", data={"complaint_id": "Q-1"})
    resolved = complaint_resolved(unit_id="taxi/fleet-3", data={"complaint_id": "Q-1"})
    elsewhere = complaint_filed(
        unit_id="qsb/licensing", staff_id="E2048", data={"complaint_id": "Q-2"}
    )
    first = live.hold([record(filed, 0, 0)])
    await first.folded.wait()

    # The verdict of the same complaint, from another partition: it waits for the
    # complaint's scope lock, which the first fold holds until it commits.
    same_complaint = asyncio.create_task(live.fold([record(resolved, 1, 0)]))
    expected = await live.advisory(SCOPE_LOCK_CLASS, "complaint:Q-1")
    await wait_for(live.waiting, until=lambda w: w == [expected], what="a wait on Q-1")

    # A complaint of another unit is folded meanwhile, in parallel with both.
    disjoint = await asyncio.wait_for(live.fold([record(elsewhere, 2, 0)]), timeout=10)
    assert disjoint.new_events == 1
    assert await still_waiting(same_complaint)

    assert (await first.done()).new_events == 1
    assert (await same_complaint).new_events == 1
    await projection_equals_oracle(live, [filed, resolved, elsewhere])


async def test_folds_of_one_unit_queue_their_feed_records_in_commit_order(live: Live) -> None:
    unit = "taxi/fleet-7"

    def substantiated(complaint_id: str, staff: str) -> list[Event]:
        filed = complaint_filed(unit_id=unit, staff_id=staff,
                                data={"complaint_id": complaint_id})  # fmt: skip
        resolved = complaint_resolved(unit_id=unit, staff_id=staff,
                                      data={"complaint_id": complaint_id})  # fmt: skip
        return [filed, resolved]

    one, two = substantiated("Q-10", "E1024"), substantiated("Q-20", "E3301")
    first = live.hold([record(e, 0, i) for i, e in enumerate(one)])
    await first.folded.wait()
    # Another complaint (its scope is free) of the same unit: the second fold waits
    # for the unit, whose ranking counts and feed order the first one holds.
    second = asyncio.create_task(live.fold([record(e, 1, i) for i, e in enumerate(two)]))
    expected = await live.advisory(UNIT_LOCK_CLASS, unit)
    await wait_for(live.waiting, until=lambda w: w == [expected], what="a wait on the unit")

    await first.done()
    await second
    feed = await live.outbox_keys()
    evidence_of = ["one" if set(evidence) & {e.id for e in one} else "two" for _, evidence in feed]
    assert {key for key, _ in feed} == {unit.encode()}
    assert evidence_of.count("one") >= 1
    assert evidence_of.count("two") >= 1
    assert evidence_of == sorted(evidence_of, key=["one", "two"].index)  # one's, then two's
    await projection_equals_oracle(live, [*one, *two])


async def test_one_event_on_two_partitions_folded_at_once_counts_once(live: Live) -> None:
    event = complaint_filed(unit_id="bank/outlet-12", data={"complaint_id": "Q-30"})
    first = live.hold([record(event, 0, 0)])
    await first.folded.wait()
    # The same pair, claimed by the first fold's uncommitted row: the second waits on
    # that transaction, then finds the pair taken.
    second = asyncio.create_task(live.fold([record(event, 1, 0)]))
    await wait_for(
        live.waiting, until=lambda w: [t for t, _, _ in w] == ["transactionid"], what="a wait"
    )

    assert (await first.done()).new_events == 1
    assert (await second).new_events == 0
    await projection_equals_oracle(live, [event])


async def test_an_earlier_copy_folded_at_once_with_a_later_one_displaces_it(
    live: Live,
) -> None:
    """Copies with other content on two partitions (they name other units, so no scope
    is shared): the earlier recorded stands whichever fold commits first."""
    later = complaint_filed(unit_id="bank/outlet-12", data={"complaint_id": "Q-40"})
    earlier = later.model_copy(update={"unit_id": "qsb/metrology"})
    first = live.hold([record(later, 0, 0)])
    await first.folded.wait()
    second = asyncio.create_task(
        live.fold([record(earlier, 1, 0, recorded_at=RECORDED - timedelta(hours=1))])
    )
    await wait_for(
        live.waiting, until=lambda w: [t for t, _, _ in w] == ["transactionid"], what="a wait"
    )

    assert (await first.done()).new_events == 1
    displacing = await second
    assert (displacing.new_events, displacing.conflicts) == (1, 1)
    await projection_equals_oracle(live, [earlier])


async def test_a_partition_is_folded_by_one_transaction_at_a_time(live: Live) -> None:
    """After a rebalance the old and the new owner may fold the same records: the
    later one waits, then skips what the earlier one committed."""
    events = [complaint_filed(unit_id="taxi/fleet-3") for _ in range(3)]
    records = [record(e, 0, i) for i, e in enumerate(events)]
    first = live.hold(records)
    await first.folded.wait()
    second = asyncio.create_task(live.fold(records[1:]))
    expected = await live.advisory(PARTITION_LOCK_CLASS, f"{TOPIC}:0")
    await wait_for(live.waiting, until=lambda w: w == [expected], what="a wait on partition 0")

    await first.done()
    assert (await second).skipped == 2
    await projection_equals_oracle(live, events)


async def test_a_rebuild_switch_waits_for_every_live_fold_and_stops_new_ones(
    live: Live,
) -> None:
    one = live.hold([record(complaint_filed(unit_id="taxi/fleet-3"), 0, 0)])
    two = live.hold([record(complaint_filed(unit_id="qsb/licensing"), 1, 0)])
    await asyncio.gather(one.folded.wait(), two.folded.wait())  # both at once

    async with live.pool.acquire() as conn, conn.transaction():
        switching = asyncio.create_task(versions.lock_writer(conn, live.version))
        writer_lock = ("advisory", versions.WRITER_LOCK_CLASS, live.version)
        await wait_for(live.waiting, until=lambda w: w == [writer_lock], what="the switch waits")
        await one.done()
        assert await still_waiting(switching)
        await two.done()
        await asyncio.wait_for(switching, timeout=10)
        # The switch holds the version alone: a new live fold waits for it.
        third = asyncio.create_task(
            live.fold([record(complaint_filed(unit_id="taxi/fleet-7"), 2, 0)])
        )
        assert await still_waiting(third)
    assert (await asyncio.wait_for(third, timeout=10)).new_events == 1


async def test_a_live_transaction_rolled_back_by_a_deadlock_is_run_again(
    scratch_database_url: str,
) -> None:
    """The fold's locks are taken in one order, so this takes two locks in opposite
    orders on purpose: PostgreSQL breaks the deadlock by rolling one back, and
    `run_live` runs that one again at once."""
    pool = await asyncpg.create_pool(scratch_database_url, min_size=2, max_size=4)
    assert pool is not None
    async with pool.acquire() as conn:
        await migrated_version(conn, policy=POLICY, state="live")
    rollbacks: list[int] = []
    writer = ProjectionWriter(pool, on_rollback=lambda: rollbacks.append(1))
    both_hold_one = asyncio.Barrier(2)
    attempts: list[str] = []

    async def work(name: str, first: int, second: int) -> str:
        async def body(tx: Any) -> str:
            attempts.append(name)
            await tx.conn.execute("SELECT pg_advisory_xact_lock(1, $1)", first)
            if attempts.count(name) == 1:
                await both_hold_one.wait()
            await tx.conn.execute("SELECT pg_advisory_xact_lock(1, $1)", second)
            return name

        return await writer.run_live(body)

    try:
        done = await asyncio.wait_for(asyncio.gather(work("a", 1, 2), work("b", 2, 1)), timeout=30)
    finally:
        await pool.close()
    assert list(done) == ["a", "b"]
    assert rollbacks == [1]
    assert len(attempts) == 3  # the one rolled back ran twice
