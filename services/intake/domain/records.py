"""The Kafka records intake writes: accepted events and dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from pydantic import AwareDatetime, TypeAdapter

from shared.events import SCHEMA_VERSION, Event, dump_event, stamp
from shared.topics import (
    HEADER_CONTENT_TYPE,
    HEADER_DLQ_ERRORS,
    HEADER_DLQ_ORIGIN,
    HEADER_DLQ_REASON,
    HEADER_EVENT_ID,
    HEADER_EVENT_SOURCE,
    HEADER_EVENT_TYPE,
    HEADER_SCHEMA_VERSION,
)

Headers = tuple[tuple[str, bytes | None], ...]

JSON_CONTENT_TYPE = b"application/json"
MAX_DLQ_ERRORS = 20  # keeps a dead letter's headers small whatever the input
_SCHEMA_VERSION = str(SCHEMA_VERSION).encode()
_DLQ_HEADERS = frozenset({HEADER_DLQ_REASON, HEADER_DLQ_ERRORS, HEADER_DLQ_ORIGIN})
_TIME = TypeAdapter(AwareDatetime)
_TYPE_KEY = b',"type":'


class OutboundRecord(NamedTuple):
    """A record to write (a NamedTuple: a batch makes a thousand of them per request)."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A record as it arrived on intake.raw.v1, untouched."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers

    @property
    def origin(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


def event_record(event: Event, *, topic: str, recorded_at: datetime) -> OutboundRecord:
    """An accepted event as it goes to events.v1: keyed by unit, stamped, with headers."""
    return event_records([event], topic=topic, recorded_at=recorded_at)[0]


def event_records(
    events: Sequence[Event], *, topic: str, recorded_at: datetime
) -> list[OutboundRecord]:
    """`event_record` for many events stamped with the same time."""
    recorded_at_json = _TIME.dump_json(recorded_at)
    return [
        OutboundRecord(
            topic,
            event.unit_id.encode(),
            stamped_json(event, recorded_at, recorded_at_json),
            (
                (HEADER_EVENT_TYPE, event.type.encode()),
                (HEADER_EVENT_SOURCE, event.source.encode()),
                (HEADER_EVENT_ID, event.id.encode()),
                (HEADER_SCHEMA_VERSION, _SCHEMA_VERSION),
                (HEADER_CONTENT_TYPE, JSON_CONTENT_TYPE),
            ),
        )
        for event in events
    ]


def stamped_json(event: Event, recorded_at: datetime, recorded_at_json: bytes) -> bytes:
    """Byte for byte `dump_event(stamp(event, recorded_at=recorded_at))`, in half the time.

    Copying the model to stamp it costs as much as serialising it (see
    bench/intake_bench.py). The envelope declares `recorded_at` just before `type`,
    so the stamped JSON is the unstamped JSON with the field inserted there; `,"type":`
    cannot occur earlier unescaped (quotes inside JSON strings are escaped). A
    property test holds this equal to the slow form for generated events.
    """
    # dump_event's bytes without its str round trip
    raw = event.__pydantic_serializer__.to_json(event, exclude_none=True)
    cut = raw.find(_TYPE_KEY)
    if cut < 0 or event.recorded_at is not None:
        return dump_event(stamp(event, recorded_at=recorded_at))
    return b"".join((raw[:cut], b',"recorded_at":', recorded_at_json, raw[cut:]))


def dead_letter_record(
    raw: RawRecord,
    *,
    topic: str,
    reason: str,
    errors: Sequence[dict[str, Any]],
    keep_headers: bool = True,
) -> OutboundRecord:
    """The original key, value (and headers) with why it was refused and where it came from."""
    shown = list(errors[:MAX_DLQ_ERRORS])
    if len(errors) > MAX_DLQ_ERRORS:
        shown.append({"loc": [], "msg": f"... and {len(errors) - MAX_DLQ_ERRORS} more"})
    original = tuple(h for h in raw.headers if h[0] not in _DLQ_HEADERS) if keep_headers else ()
    value = raw.value if raw.value is not None or raw.key is not None else b""
    return OutboundRecord(
        topic=topic,
        key=raw.key,
        value=value,
        headers=(
            *original,
            (HEADER_DLQ_REASON, reason.encode()),
            (HEADER_DLQ_ERRORS, orjson.dumps(shown)),
            (HEADER_DLQ_ORIGIN, raw.origin.encode()),
        ),
    )
