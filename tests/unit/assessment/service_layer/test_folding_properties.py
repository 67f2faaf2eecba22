"""The projections are a function of the SET of distinct events: any arrival order,
partitioning, batch split, duplicate or redelivered batch gives what the pure oracle
(domain.reference.evaluate_history) gives for the distinct events."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assessment.domain.event_facts import facts_from_events
from services.assessment.domain.policy import Policy, load_default_policy
from services.assessment.domain.records import Record
from services.assessment.domain.reference import evaluate_history
from services.assessment.domain.results import Alert, ComplaintState, Warning
from services.assessment.service_layer.folding import fold
from shared.catalogue import CommendationKind
from shared.events import (
    CommendationRecorded,
    CommendationRecordedData,
    Event,
    dump_event,
    stamp,
)
from tests.support.histories import histories
from tests.unit.assessment.service_layer.fakes import (
    InMemoryStore,
    InMemoryTx,
)

pytestmark = pytest.mark.unit

TOPIC = "events.v1"
PARTITIONS = 3
POLICY: Policy = load_default_policy()


def to_records(deliveries: list[Event]) -> list[Record]:
    """Kafka-like: key = unit_id picks the partition; offsets grow per partition."""
    next_offset: dict[int, int] = defaultdict(int)
    records = []
    for event in deliveries:
        partition = sum(event.unit_id.encode()) % PARTITIONS
        value = dump_event(stamp(event, recorded_at=datetime(2026, 3, 1, tzinfo=UTC)))
        records.append(
            Record(TOPIC, partition, next_offset[partition], event.unit_id.encode(), value)
        )
        next_offset[partition] += 1
    return records


Projections = tuple[list[Warning], list[Alert], list[ComplaintState]]


def oracle_of(events: list[Event]) -> Projections:
    facts = facts_from_events(events)
    history = evaluate_history(
        filings=facts.filings, verdicts=facts.verdicts, findings=facts.findings, policy=POLICY
    )
    return list(history.warnings), list(history.alerts), list(history.complaints)


def projections_of(store: InMemoryStore) -> Projections:
    return (
        sorted(store.warnings.values(), key=lambda w: w.id),
        sorted(store.alerts.values(), key=lambda a: a.id),
        sorted(store.complaints.values(), key=lambda c: c.complaint_id),
    )


async def fold_all(batches: list[list[Record]], redeliver: list[int]) -> InMemoryStore:
    store = InMemoryStore(tz=POLICY.tz)
    tx = InMemoryTx(policy=POLICY, store=store)
    for index, batch in enumerate(batches):
        await fold(tx, batch)
        if index in redeliver:  # a crash after commit, before Kafka's commit
            await fold(tx, batch)
    return store


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories, data=st.data())
def test_order_duplicates_splits_and_redelivery_change_nothing(
    history: list[Event], data: st.DataObject
) -> None:
    duplicates = data.draw(st.lists(st.sampled_from(history), max_size=5), label="duplicates")
    deliveries = data.draw(st.permutations(history + duplicates), label="arrival order")
    records = to_records(deliveries)
    cuts = sorted(
        data.draw(st.sets(st.integers(1, max(1, len(records) - 1)), max_size=6), label="cuts")
    )
    bounds = [0, *cuts, len(records)]
    batches = [records[a:b] for a, b in itertools.pairwise(bounds) if a < b]
    redeliver = data.draw(st.sets(st.integers(0, len(batches) - 1), max_size=2), label="redeliver")

    store = asyncio.run(fold_all(batches, sorted(redeliver)))

    assert projections_of(store) == oracle_of(history)


def test_poison_is_dead_lettered_and_its_position_still_advances() -> None:
    event = CommendationRecorded(
        id="c-1",
        type="commendation.recorded",
        source="hr-awards",
        occurred_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        unit_id="taxi/fleet-1",
        staff_id="D042",
        data=CommendationRecordedData(
            commendation_id="K1", kind=CommendationKind.RETURNED_PROPERTY, summary="拾金不昧"
        ),
    )
    good = to_records([event])[0]
    assert good.value is not None
    poison = Record(TOPIC, good.partition, good.offset + 1, b"k", b"{not json")
    unknown_type = good.value.replace(b'"type":"', b'"type":"x')
    unknown = Record(TOPIC, good.partition, good.offset + 2, b"k", unknown_type)
    store = InMemoryStore(tz=POLICY.tz)
    tx = InMemoryTx(POLICY, store)

    folded = asyncio.run(fold(tx, [good, poison, unknown]))

    assert [p.reason for p in tx.parked] == ["unparseable", "unknown_type"]
    assert folded.events == 1
    assert folded.poison == 2
    assert store.positions_by_topic[TOPIC] == {good.partition: good.offset + 2}
