"""Dead letters of the assessment: records of events.v1 it cannot fold, with the reason.

`park` runs inside the fold's transaction: the record is stored (queryable, with its
raw bytes for a retry) and queued in the outbox for `assessment.deadletter.v1`; its
position advances in that same transaction. A record is parked once, whatever the
redeliveries (unique origin).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.assessment.adapters.db import Connection
from services.assessment.adapters.outbox import OutboxRecord, enqueue
from services.assessment.domain.records import Poison, Record
from shared import topics

log = logging.getLogger(__name__)

_PARK = """
    INSERT INTO assessment.deadletters
        (origin_topic, origin_partition, origin_offset, reason, error, source, event_id,
         event_type, raw_key, raw)
    SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[],
                         $6::text[], $7::text[], $8::text[], $9::bytea[], $10::bytea[])
    ON CONFLICT (origin_topic, origin_partition, origin_offset) DO NOTHING
    RETURNING origin_topic, origin_partition, origin_offset"""


async def park(conn: Connection, poison: Sequence[Poison], deadletter_topic: str) -> list[Poison]:
    """Store and queue the poison not parked before; returns those."""
    if not poison:
        return []
    rows = [_row(item) for item in poison]
    columns = [list(column) for column in zip(*rows, strict=True)]
    new = {
        (r["origin_topic"], r["origin_partition"], r["origin_offset"])
        for r in await conn.fetch(_PARK, *columns)
    }
    fresh = [item for item in poison if item.record.position in new]
    await enqueue(conn, [_outbox_record(item, deadletter_topic) for item in fresh])
    for item in fresh:
        log.warning("dead-lettered %s: %s", item.record.origin, item.reason)
    return fresh


def _row(item: Poison) -> tuple[Any, ...]:
    record, event = item.record, item.event
    return (
        record.topic,
        record.partition,
        record.offset,
        item.reason,
        item.errors,
        event.source if event else record.header(topics.HEADER_EVENT_SOURCE),
        event.id if event else record.header(topics.HEADER_EVENT_ID),
        event.type if event else record.header(topics.HEADER_EVENT_TYPE),
        record.key,
        record.value,
    )


def _outbox_record(item: Poison, deadletter_topic: str) -> OutboxRecord:
    return OutboxRecord(
        topic=deadletter_topic,
        key=item.record.key,
        value=item.record.value or b"",
        headers=(
            (topics.HEADER_DLQ_REASON, item.reason.encode()),
            (topics.HEADER_DLQ_ERRORS, item.errors.encode()),
            (topics.HEADER_DLQ_ORIGIN, item.record.origin.encode()),
            (topics.HEADER_DLQ_TOPIC, item.record.topic.encode()),
            (topics.HEADER_DLQ_PARTITION, str(item.record.partition).encode()),
            (topics.HEADER_DLQ_OFFSET, str(item.record.offset).encode()),
        ),
    )


# -- reading and retrying --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parked:
    """A parked record as ops see it: never the raw bytes (they hold complainant data)."""

    id: int
    origin: str
    reason: str
    error: str
    source: str | None
    event_id: str | None
    event_type: str | None
    parked_at: datetime
    retried_at: datetime | None
    retry_outcome: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "origin": self.origin,
            "reason": self.reason,
            "error": self.error,
            "source": self.source,
            "event_id": self.event_id,
            "type": self.event_type,
            "parked_at": self.parked_at,
            "retried_at": self.retried_at,
            "retry_outcome": self.retry_outcome,
        }


_LIST = """
    SELECT id, origin_topic, origin_partition, origin_offset, reason, error, source,
           event_id, event_type, parked_at, retried_at, retry_outcome
    FROM assessment.deadletters
    WHERE ($1::text IS NULL OR reason = $1)
      AND ($2::timestamptz IS NULL OR parked_at >= $2)
      AND ($3::timestamptz IS NULL OR (parked_at, id) > ($3, $4))
    ORDER BY parked_at, id
    LIMIT $5"""


async def list_parked(
    conn: Connection,
    *,
    reason: str | None = None,
    since: datetime | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 100,
) -> list[Parked]:
    rows = await conn.fetch(
        _LIST, reason, since, after[0] if after else None, after[1] if after else 0, limit
    )
    return [
        Parked(
            id=r["id"],
            origin=f"{r['origin_topic']}/{r['origin_partition']}/{r['origin_offset']}",
            reason=r["reason"],
            error=r["error"],
            source=r["source"],
            event_id=r["event_id"],
            event_type=r["event_type"],
            parked_at=r["parked_at"],
            retried_at=r["retried_at"],
            retry_outcome=r["retry_outcome"],
        )
        for r in rows
    ]


_RETRYABLE = """
    SELECT id, origin_topic, origin_partition, origin_offset, raw_key, raw
    FROM assessment.deadletters
    WHERE origin_topic = $1 AND ($2::text IS NULL OR reason = $2)
      AND raw IS NOT NULL AND coalesce(retry_outcome, 'still_parked') = 'still_parked'
    ORDER BY origin_partition, origin_offset"""


async def retryable(conn: Connection, *, topic: str, reason: str | None) -> list[Record]:
    """The parked records of `topic` not yet folded by a retry, in log order."""
    return [
        Record(
            topic=r["origin_topic"],
            partition=r["origin_partition"],
            offset=r["origin_offset"],
            key=r["raw_key"],
            value=r["raw"],
        )
        for r in await conn.fetch(_RETRYABLE, topic, reason)
    ]


_RETRIED = """
    UPDATE assessment.deadletters SET retried_at = now(), retry_outcome = $4
    WHERE origin_topic = $1 AND origin_partition = $2 AND origin_offset = $3"""


async def mark_retried(conn: Connection, record: Record, outcome: str) -> None:
    await conn.execute(_RETRIED, record.topic, record.partition, record.offset, outcome)
