"""The facts the rules read, built by the service layer from validated events."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import TypeVar

from msgspec import Struct

from shared.catalogue import Category, Channel, FindingCode, Handling, Outcome

_T = TypeVar("_T")


class EventKey(Struct, frozen=True, gc=False):
    """Identity and time order of one event."""

    occurred_at: datetime  # aware
    event_id: str
    source: str

    def order(self) -> tuple[datetime, str, str]:
        # DOMAIN.md: "in time order" ties break by event id, then source.
        return (self.occurred_at, self.event_id, self.source)

    def identity(self) -> tuple[str, str]:
        return (self.source, self.event_id)


class ComplaintFiling(Struct, frozen=True, gc=False):
    key: EventKey
    complaint_id: str
    unit_id: str
    staff_id: str | None
    channel: Channel
    category: Category
    handling: Handling


class ComplaintVerdict(Struct, frozen=True, gc=False):
    key: EventKey
    complaint_id: str
    unit_id: str
    staff_id: str | None
    outcome: Outcome
    category: Category | None
    obstructed: bool


class Finding(Struct, frozen=True, gc=False):
    """One finding of an inspection; `position` is its index in the event's list."""

    key: EventKey
    position: int
    inspection_id: str
    unit_id: str
    staff_id: str | None
    code: FindingCode
    unit_wide: bool

    def order(self) -> tuple[datetime, str, str, int]:
        return (*self.key.order(), self.position)

    def identity(self) -> tuple[str, str, int]:
        return (*self.key.identity(), self.position)


_E = TypeVar("_E", ComplaintFiling, ComplaintVerdict)


def distinct(items: Iterable[_T], identity: Callable[[_T], Hashable]) -> list[_T]:
    """One item per identity.

    Copies of one event are normally identical; should two conflict, the one with the
    smallest repr wins, so the pick never depends on the order they came in.
    """
    chosen: dict[Hashable, _T] = {}
    for item in items:
        key = identity(item)
        kept = chosen.get(key)
        # repr only when two copies differ: rare, and this is the hot path of every scope.
        if kept is None or (item != kept and repr(item) < repr(kept)):
            chosen[key] = item
    return list(chosen.values())


def in_time_order(events: Iterable[_E]) -> list[_E]:
    """Distinct complaint events (by source and id), in time order."""
    unique = distinct(events, _identity)
    if len(unique) > 1:  # most complaints are filed once
        unique.sort(key=_order)
    return unique


def _identity(event: ComplaintFiling | ComplaintVerdict) -> tuple[str, str]:
    return event.key.identity()


def _order(event: ComplaintFiling | ComplaintVerdict) -> tuple[datetime, str, str]:
    return event.key.order()


def findings_in_time_order(findings: Iterable[Finding]) -> list[Finding]:
    """Distinct findings (by source, id and position), in time order."""
    return sorted(distinct(findings, Finding.identity), key=Finding.order)
