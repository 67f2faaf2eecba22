"""One batch of records -> one transaction on a projection version.

Records at or below the version's stored position are skipped (redelivery after a
crash or a rebalance changes nothing); poison goes to the dead-letter sink before
the transaction commits; the new positions are written in the same transaction as
the projections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from services.assessment.domain.policy import Policy
from services.assessment.service_layer.facts import facts_from_events
from services.assessment.service_layer.projector import project
from services.assessment.service_layer.records import Poison, Record, decode
from services.assessment.service_layer.store import ProjectionStore


class DeadLetters(Protocol):
    async def send(self, poison: Sequence[Poison]) -> None: ...


class WriteTransaction(Protocol):
    @property
    def policy(self) -> Policy: ...

    @property
    def store(self) -> ProjectionStore: ...

    async def positions(self, topic: str) -> dict[int, int]: ...

    async def save_positions(self, topic: str, positions: dict[int, int]) -> None: ...


@dataclass(frozen=True, slots=True)
class Folded:
    records: int
    skipped: int
    events: int
    new_events: int
    poison: int


async def fold(tx: WriteTransaction, records: Sequence[Record], deadletters: DeadLetters) -> Folded:
    fresh: list[Record] = []
    for topic in sorted({record.topic for record in records}):
        stored = await tx.positions(topic)
        fresh.extend(
            r for r in records if r.topic == topic and r.offset > stored.get(r.partition, -1)
        )
    if not fresh:
        return Folded(len(records), len(records), 0, 0, 0)

    decoded = decode(fresh)
    if decoded.poison:
        await deadletters.send(decoded.poison)
    projected = await project(tx.store, facts_from_events(decoded.events), tx.policy)
    for topic, positions in highest_offsets(fresh).items():
        await tx.save_positions(topic, positions)
    return Folded(
        records=len(records),
        skipped=len(records) - len(fresh),
        events=len(decoded.events),
        new_events=projected.new_events,
        poison=len(decoded.poison),
    )


def highest_offsets(records: Sequence[Record]) -> dict[str, dict[int, int]]:
    highest: dict[str, dict[int, int]] = {}
    for record in records:
        partitions = highest.setdefault(record.topic, {})
        partitions[record.partition] = max(partitions.get(record.partition, -1), record.offset)
    return highest
