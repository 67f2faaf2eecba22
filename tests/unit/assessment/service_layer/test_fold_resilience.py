"""The fold decides identity across types by one total order, whatever the arrival
order and batching; a batch that fails for an unknown reason is split until the record
is isolated, which is parked as fold_error after failing alone 3 times; failures of
the environment are raised for the caller to retry."""

from __future__ import annotations

import asyncio
import copy
import itertools
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assessment.domain.event_facts import FactBatch
from services.assessment.domain.records import Record
from services.assessment.service_layer.folding import Folded, fold
from services.assessment.service_layer.resilience import IsolatingFold, Position
from shared.catalogue import CommendationKind
from shared.events import (
    CommendationRecorded,
    CommendationRecordedData,
    Event,
    dump_event,
    stamp,
)
from tests.support.histories import histories
from tests.unit.assessment.service_layer.fakes import InMemoryStore, InMemoryTx
from tests.unit.assessment.service_layer.test_folding_properties import (
    POLICY,
    TOPIC,
    oracle_of,
    projections_of,
)

pytestmark = pytest.mark.unit
PARTITIONS = 3
BASE = datetime(2026, 3, 1, tzinfo=UTC)


def impostor(event: Event, n: int) -> CommendationRecorded:
    """Another event under the same (source, id): another type and content."""
    return CommendationRecorded(
        id=event.id,
        type="commendation.recorded",
        source=event.source,
        occurred_at=event.occurred_at,
        unit_id=f"other/{n}",
        data=CommendationRecordedData(
            commendation_id=f"IMP-{n}", kind=CommendationKind.OTHER, summary="冒名"
        ),
    )


def place(copies: list[tuple[Event, int, int]], arrival: random.Random) -> list[Record]:
    """(event, partition, recorded second) -> records with offsets per partition, in an
    arrival order that keeps each partition's order (what a consumer sees)."""
    per_partition: dict[int, list[Record]] = {p: [] for p in range(PARTITIONS)}
    for event, partition, second in copies:
        value = dump_event(stamp(event, recorded_at=BASE + timedelta(seconds=second)))
        offset = len(per_partition[partition])
        per_partition[partition].append(
            Record(TOPIC, partition, offset, event.unit_id.encode(), value)
        )
    queues = [list(records) for records in per_partition.values() if records]
    merged: list[Record] = []
    while queues:
        queue = arrival.choice(queues)
        merged.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return merged


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories, data=st.data())
def test_a_pair_reused_across_types_counts_once_whatever_the_arrival(
    history: list[Event], data: st.DataObject
) -> None:
    reused = data.draw(st.lists(st.sampled_from(history), max_size=4, unique_by=lambda e: e.key))
    events = history + [impostor(e, n) for n, e in enumerate(reused)]
    # Distinct recorded seconds per copy: the total order needs no tie-break here; the
    # partition is drawn (copies of a pair may sit anywhere).
    seconds = data.draw(st.permutations(range(len(events))))
    partitions = data.draw(st.lists(st.integers(0, PARTITIONS - 1), min_size=len(events),
                                    max_size=len(events)))  # fmt: skip
    copies = list(zip(events, partitions, seconds, strict=True))
    records = place(copies, random.Random(data.draw(st.integers(0, 2**32))))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(records) - 1)), max_size=5)))
    bounds = [0, *cuts, len(records)]
    batches = [records[a:b] for a, b in itertools.pairwise(bounds) if a < b]

    store = InMemoryStore(tz=POLICY.tz)
    tx = InMemoryTx(POLICY, store)
    for batch in batches:
        asyncio.run(fold(tx, batch))

    winners: dict[tuple[str, str], tuple[tuple[int, int], Event]] = {}
    for event, partition, second in copies:
        key = event.key
        if key not in winners or (second, partition) < winners[key][0]:
            winners[key] = ((second, partition), event)
    expected = [event for _, event in winners.values()]
    assert projections_of(store) == oracle_of(expected)
    kept = {**store.filings, **store.verdicts, **store.inspections, **store.commendations}
    assert set(kept) == {e.key for e in expected}
    assert len(tx.parked) == len(reused)  # the copy that does not stand, once per pair
    assert {p.reason for p in tx.parked} <= {"conflicting_duplicate"}


# -- isolation ------------------------------------------------------------------------


class RuleError(Exception):
    """Stands for a failure the decoder did not foresee (a rule or database error)."""


class FailingStore(InMemoryStore):
    """Fails to add the facts of one event (by id), and whatever `outage` says."""

    poisoned_id: str = ""
    outage: bool = False

    async def add_facts(self, facts: FactBatch) -> FactBatch:
        if self.outage:
            raise ConnectionResetError("the database went away")
        ids = {c.key.event_id for c in facts.commendations}
        if self.poisoned_id in ids:
            raise RuleError(f"cannot fold {self.poisoned_id}")
        return await super().add_facts(facts)


def commendations(n: int) -> list[Event]:
    return [
        CommendationRecorded(
            id=f"k-{i}",
            type="commendation.recorded",
            source="hr-awards",
            occurred_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
            unit_id=f"taxi/fleet-{i % 3}",
            data=CommendationRecordedData(
                commendation_id=f"K{i}", kind=CommendationKind.BRAVERY, summary="见义勇为"
            ),
        )
        for i in range(n)
    ]


def as_records(events: Sequence[Event]) -> list[Record]:
    return [
        Record(TOPIC, i % PARTITIONS, i // PARTITIONS, b"k", dump_event(stamp(e, recorded_at=BASE)))
        for i, e in enumerate(events)
    ]


class Transactions:
    """Each fold in a transaction of its own: a failure leaves the store as it was."""

    def __init__(self, store: FailingStore) -> None:
        self.store = store
        self.tx = InMemoryTx(POLICY, store)
        self.attempts = 0

    async def fold_once(self, records: Sequence[Record], failed: Mapping[Position, str]) -> Folded:
        self.attempts += 1
        before = copy.deepcopy((self.store.__dict__, self.tx.parked))
        try:
            return await fold(self.tx, records, failed=failed)
        except BaseException:
            self.store.__dict__, self.tx.parked = before
            raise


def is_environment(error: BaseException) -> bool:
    return isinstance(error, OSError)


def test_a_record_failing_for_an_unknown_reason_is_isolated_and_parked_after_3_tries() -> None:
    events = commendations(40)
    store = FailingStore(tz=POLICY.tz)
    store.poisoned_id = "k-17"
    transactions = Transactions(store)
    poison_failures: list[int] = []
    isolating = IsolatingFold(
        transactions.fold_once,
        is_environment=is_environment,
        pause_s=0,
        on_poison_failure=lambda: poison_failures.append(1),
    )

    folded = asyncio.run(isolating(as_records(events)))

    assert set(store.commendations) == {e.key for e in events if e.id != "k-17"}
    [parked] = transactions.tx.parked
    assert parked.reason == "fold_error"
    assert "RuleError" in parked.errors
    assert "k-17" in parked.errors
    assert parked.record.offset == 17 // PARTITIONS
    assert parked.record.partition == 17 % PARTITIONS
    assert store.positions_by_topic[TOPIC] == {0: 13, 1: 12, 2: 12}  # every record passed
    assert folded.new_events == 39
    assert folded.parked == {"fold_error": 1}
    # Halving 40 records reaches the record in 6 levels (a failing half and a good
    # sibling each), then 2 more tries alone and the parking: few transactions.
    assert 3 <= len(poison_failures) <= 6 + 2
    assert transactions.attempts <= 2 * 6 + 2 + 1 + 1


def test_a_failure_of_the_environment_is_raised_for_a_retry_and_folds_nothing() -> None:
    store = FailingStore(tz=POLICY.tz)
    store.outage = True
    transactions = Transactions(store)
    isolating = IsolatingFold(transactions.fold_once, is_environment=is_environment, pause_s=0)
    records = as_records(commendations(10))

    with pytest.raises(ConnectionResetError):
        asyncio.run(isolating(records))

    assert transactions.attempts == 1
    assert store.commendations == {}
    assert transactions.tx.parked == []
    store.outage = False
    assert asyncio.run(isolating(records)).new_events == 10
