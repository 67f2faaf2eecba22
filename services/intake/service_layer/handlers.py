"""Intake's use cases, one small function each: record accepted events; route raw records."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.events import Event
from shared.topics import TopicNames

from ..domain import raw as raw_rules
from ..domain.identity import Conflict, RecentIds
from ..domain.records import (
    OutboundRecord,
    RawRecord,
    dead_letter_record,
    event_record,
    event_records,
)
from ..metrics import HTTP, KAFKA, IntakeMetrics
from .ports import Publisher, RecordTooLargeError


class ConflictingReuseError(Exception):
    """Events reuse a (source, id) with other content; nothing was published."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        first = conflicts[0]
        super().__init__(
            f"event {first.index}: ({first.source}, {first.id}) was "
            + ("sent earlier in this request" if first.reason == "in_request" else "accepted")
            + " with other content"
        )
        self.conflicts = conflicts


async def record_events(
    events: Sequence[Event],
    *,
    publisher: Publisher,
    topics: TopicNames,
    recorded_at: datetime,
    metrics: IntakeMetrics,
    channel: str = HTTP,
    recent_ids: RecentIds | None = None,
) -> None:
    """Write validated events to events.v1; returns once Kafka acknowledged all of them.
    With `recent_ids`, a reuse of a pair with other content is refused first."""
    if recent_ids is not None and (conflicts := recent_ids.conflicts(events)):
        raise ConflictingReuseError(conflicts)
    records = event_records(events, topic=topics.events, recorded_at=recorded_at)
    started = time.perf_counter()
    await publisher.publish(records)
    if recent_ids is not None:
        recent_ids.remember(events)
    metrics.publish_seconds.labels(channel).observe(time.perf_counter() - started)
    metrics.batch_size.labels(channel).observe(len(events))
    metrics.count_accepted(events, channel=channel)


@dataclass(frozen=True, slots=True)
class RawOutcome:
    forwarded: list[Event]
    dead_letters: list[tuple[RawRecord, str]]  # (record, reason)


async def route_raw(
    records: Sequence[RawRecord],
    *,
    publisher: Publisher,
    topics: TopicNames,
    received_at: datetime,
    metrics: IntakeMetrics,
) -> RawOutcome:
    """Forward each valid raw record to events.v1, dead-letter the rest; returns once
    Kafka acknowledged every forward and dead letter (only then may offsets move)."""
    plans: list[_Plan] = [_plan(r, topics=topics, received_at=received_at) for r in records]
    started = time.perf_counter()
    await _publish_shrinking(plans, publisher=publisher, topics=topics)
    metrics.publish_seconds.labels(KAFKA).observe(time.perf_counter() - started)
    metrics.batch_size.labels(KAFKA).observe(len(records))
    forwarded = [p.event for p in plans if p.event is not None]
    dead = [(p.raw, p.reason) for p in plans if p.event is None]
    metrics.count_accepted(forwarded, channel=KAFKA)
    for _, reason in dead:
        metrics.count_rejected(reason, channel=KAFKA)
    return RawOutcome(forwarded=forwarded, dead_letters=dead)


@dataclass(slots=True)
class _Plan:
    raw: RawRecord
    record: OutboundRecord
    event: Event | None
    reason: str
    shrunk: bool = False


def _plan(raw: RawRecord, *, topics: TopicNames, received_at: datetime) -> _Plan:
    checked = raw_rules.check_raw(
        raw.value, received_at=received_at, topic_source=topics.source_of_raw(raw.topic)
    )
    if isinstance(checked, raw_rules.Refusal):
        record = dead_letter_record(
            raw, topic=topics.intake_deadletter, reason=checked.reason, errors=checked.errors
        )
        return _Plan(raw=raw, record=record, event=None, reason=checked.reason)
    record = event_record(checked, topic=topics.events, recorded_at=received_at)
    return _Plan(raw=raw, record=record, event=checked, reason="")


async def _publish_shrinking(
    plans: list[_Plan], *, publisher: Publisher, topics: TopicNames
) -> None:
    """Publish; a record too large for Kafka becomes a dead letter (reason too_large),
    a dead letter too large loses the copied headers. Anything still too large
    raises: the offset then stays where it is and the record is never dropped."""
    while True:
        try:
            await publisher.publish([p.record for p in plans])
            return
        except RecordTooLargeError as too_large:
            plan = plans[too_large.index]
            if plan.shrunk:
                raise
            errors = [{"loc": [], "msg": str(too_large)}]
            plan.record = dead_letter_record(
                plan.raw,
                topic=topics.intake_deadletter,
                reason=raw_rules.TOO_LARGE if plan.event is not None else plan.reason,
                errors=errors if plan.event is not None else [],
                keep_headers=False,
            )
            if plan.event is not None:
                plan.event, plan.reason = None, raw_rules.TOO_LARGE
            plan.shrunk = True
