"""Identity across types: (source, id) names one event, whatever its type.

Every copy of a pair has a content digest and a place in one total order,
(recorded_at, partition, offset), that the live fold and the rebuild both apply.
The first copy in that order stands; a copy with other content is a conflicting
duplicate and never counts. Copies of one pair may sit on different partitions (they
may name different units), so the earlier copy can arrive after a later one was
folded: then the folded one is displaced (its facts retracted, the scopes they
touched recomputed) and the earlier one folded, so that the outcome is the same as
a rebuild's whatever the arrival order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from msgspec import Struct

from services.assessment.domain.records import Record
from shared.events import Event
from shared.fast_events import FastEvent

Key = tuple[str, str]  # (source, id)
Order = tuple[datetime, int, int]  # (recorded_at, partition, offset)


class Identity(Struct, frozen=True):
    """The copy of a pair that stands, as stored."""

    source: str
    event_id: str
    digest: bytes
    recorded_at: datetime
    partition: int
    offset: int

    @property
    def key(self) -> Key:
        return (self.source, self.event_id)

    @property
    def order(self) -> Order:
        return (self.recorded_at, self.partition, self.offset)


class Copy(Struct, frozen=True):
    """One decoded copy in the batch, with the identity it would be stored under (built
    once: identity applies it several times per copy, and each would parse the
    recorded_at text again)."""

    event: Event | FastEvent
    record: Record
    identity: Identity

    @classmethod
    def of(cls, event: Event | FastEvent, record: Record, digest: bytes) -> Copy:
        assert event.recorded_at is not None  # parse_recorded requires it
        identity = Identity(
            event.source, event.id, digest, event.recorded_at, record.partition, record.offset
        )
        return cls(event, record, identity)

    @property
    def digest(self) -> bytes:
        return self.identity.digest

    @property
    def key(self) -> Key:
        return (self.event.source, self.event.id)


class Resolution(Struct, frozen=True):
    fold: list[Copy]  # one per pair: the copy to add to the facts
    save: list[Identity]  # identities to store (new, moved earlier, or replacing)
    conflicts: list[Copy]  # copies with other content than the one that stands
    displaced: list[Identity]  # stored copies an earlier one replaces: retract


def resolve(copies: Sequence[Copy], stored: dict[Key, Identity]) -> Resolution:
    fold: list[Copy] = []
    save: list[Identity] = []
    conflicts: list[Copy] = []
    displaced: list[Identity] = []
    by_key: dict[Key, list[Copy]] = defaultdict(list)
    for copy in copies:
        by_key[copy.key].append(copy)
    for key, group in by_key.items():
        group.sort(key=lambda c: c.identity.order)
        first = group[0]
        before = stored.get(key)
        if before is not None and before.order <= first.identity.order:
            winner_digest = before.digest  # the stored copy stands
        else:
            winner_digest = first.digest
            if before is None or before.digest != first.digest:
                fold.append(first)
            if before is not None and before.digest != first.digest:
                displaced.append(before)
            save.append(first.identity)  # new, or the same content seen earlier
        conflicts.extend(c for c in group if c.digest != winner_digest)
    return Resolution(fold, save, conflicts, displaced)
