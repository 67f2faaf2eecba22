"""One batch of records -> one transaction on a projection version.

Records at or below the version's stored position are skipped (redelivery after a
crash or a rebalance changes nothing). Each record is decoded and checked on its own;
what cannot be folded (garbage, a contract violation, a value the store cannot hold,
a conflicting duplicate) is parked with its reason in the same transaction that
advances the positions; the dead-letter topic is written after commit (outbox).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from services.assessment.domain.event_facts import facts_from_events
from services.assessment.domain.identity import Copy, Identity, Key, resolve
from services.assessment.domain.policy import Policy
from services.assessment.domain.records import Poison, Record, decode_checked, digest_of
from services.assessment.service_layer.projector import project
from services.assessment.service_layer.store import ProjectionStore


class WriteTransaction(Protocol):
    @property
    def policy(self) -> Policy: ...

    @property
    def store(self) -> ProjectionStore: ...

    async def lock_partitions(self, topic: str, partitions: Collection[int]) -> None:
        """Hold these partitions' positions until the transaction ends (a fold of the
        same partition by another instance, after a rebalance, waits)."""
        ...

    async def positions(self, topic: str) -> dict[int, int]: ...

    async def save_positions(self, topic: str, positions: dict[int, int]) -> None: ...

    async def park(self, poison: Sequence[Poison]) -> Sequence[Poison]:
        """Park these records (dead letters); returns those not parked before."""
        ...


@dataclass(frozen=True, slots=True)
class Folded:
    records: int = 0
    skipped: int = 0
    events: int = 0
    new_events: int = 0
    poison: int = 0
    conflicts: int = 0
    parked: Mapping[str, int] = field(default_factory=dict)  # newly parked, by reason

    def __add__(self, other: Folded) -> Folded:
        return Folded(
            self.records + other.records,
            self.skipped + other.skipped,
            self.events + other.events,
            self.new_events + other.new_events,
            self.poison + other.poison,
            self.conflicts + other.conflicts,
            dict(Counter(self.parked) + Counter(other.parked)),
        )


async def fold(
    tx: WriteTransaction,
    records: Sequence[Record],
    *,
    skip_folded: bool = True,
    failed: Mapping[tuple[str, int, int], str] | None = None,
) -> Folded:
    """Fold `records`; `failed` names records to park as `fold_error` unread (they
    failed alone too often); `skip_folded=False` refolds parked records (a retry)."""
    fresh: list[Record] = list(records)
    if skip_folded:
        fresh = []
        for topic in sorted({record.topic for record in records}):
            await tx.lock_partitions(topic, {r.partition for r in records if r.topic == topic})
            done = await tx.positions(topic)
            fresh.extend(
                r for r in records if r.topic == topic and r.offset > done.get(r.partition, -1)
            )
    if not fresh:
        return Folded(records=len(records), skipped=len(records))

    poison: list[Poison] = []
    copies: list[Copy] = []
    for record in fresh:
        if failed and record.position in failed:
            poison.append(Poison(record, "fold_error", _json(failed[record.position])))
            continue
        outcome = decode_checked(record)
        if isinstance(outcome, Poison):
            poison.append(outcome)
        else:
            copies.append(Copy.of(outcome, record, digest_of(outcome)))

    store = tx.store
    # The first copy of each pair is stored at once where the pair is new (the claim
    # that keeps a concurrent fold of the same pair waiting); the rest is resolved
    # against the standing copies, held likewise.
    first = first_copies(copies)
    stored = await store.claim_identities(list(first.values()))
    resolution = resolve(copies, stored)
    conflicts = [_conflict(c, stored.get(c.key)) for c in resolution.conflicts]
    conflicts += [_displaced(identity, fresh[0].topic) for identity in resolution.displaced]
    retracted = await store.retract([identity.key for identity in resolution.displaced])
    await store.save_identities([i for i in resolution.save if i.key in stored])
    projected = await project(
        store, facts_from_events(c.event for c in resolution.fold), tx.policy, retracted
    )
    parked = await tx.park(poison + conflicts)
    if skip_folded:
        for topic, positions in highest_offsets(fresh).items():
            await tx.save_positions(topic, positions)
    return Folded(
        records=len(records),
        skipped=len(records) - len(fresh),
        events=len(copies),
        new_events=projected.new_events,
        poison=len(poison),
        conflicts=len(conflicts),
        parked=dict(Counter(item.reason for item in parked)),
    )


def first_copies(copies: Sequence[Copy]) -> dict[Key, Identity]:
    """The earliest copy of each pair in the batch, in the order identity applies."""
    first: dict[Key, Identity] = {}
    for copy in copies:
        identity = copy.identity
        if copy.key not in first or identity.order < first[copy.key].order:
            first[copy.key] = identity
    return first


def _conflict(copy: Copy, standing: Identity | None) -> Poison:
    detail = {
        "msg": f"({copy.event.source}, {copy.event.id}) was first recorded with other content",
        "type": "conflicting_duplicate",
    }
    if standing is not None:
        detail["standing"] = f"partition {standing.partition} offset {standing.offset}"
    return Poison(copy.record, "conflicting_duplicate", _json([detail]), copy.event)


def _displaced(identity: Identity, topic: str) -> Poison:
    """A copy folded earlier that an earlier-recorded copy with other content replaces.
    Its bytes are on the log at its origin; the dead letter names it."""
    record = Record(topic=topic, partition=identity.partition, offset=identity.offset,
                    key=None, value=None)  # fmt: skip
    detail = {
        "msg": f"({identity.source}, {identity.event_id}) was recorded earlier with other "
        "content (a copy on another partition arrived later); this copy no longer counts",
        "type": "conflicting_duplicate",
    }
    return Poison(record, "conflicting_duplicate", _json([detail]))


def highest_offsets(records: Sequence[Record]) -> dict[str, dict[int, int]]:
    highest: dict[str, dict[int, int]] = {}
    for record in records:
        partitions = highest.setdefault(record.topic, {})
        partitions[record.partition] = max(partitions.get(record.partition, -1), record.offset)
    return highest


def _json(value: object) -> str:
    return orjson.dumps(value).decode()
