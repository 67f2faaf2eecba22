"""Kafka records of events.v1 -> validated events, or poison with a reason."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from msgspec import Struct
from pydantic import ValidationError

from shared import topics
from shared.events import EARLIEST, SCHEMA_VERSION, Event, content_digest, parse_recorded
from shared.fast_events import Envelope, FastEvent, NotFast, fast_digest, parse_recorded_fast

# What the store and asyncpg round-trip: timestamptz reaches far beyond, but Python's
# datetime stops at year 9999 and deadlines are computed days after an event.
LATEST_STORABLE = datetime(9999, 1, 1, tzinfo=UTC)


class Record(Struct, frozen=True):
    """What the service needs of one Kafka record, whichever client read it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int | None = None  # the broker's or producer's timestamp

    @property
    def position(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.offset)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", errors="replace")
        return None

    @property
    def origin(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    @classmethod
    def from_kafka(cls, raw: Any) -> Record:
        """From aiokafka's ConsumerRecord."""
        return cls(
            topic=raw.topic,
            partition=raw.partition,
            offset=raw.offset,
            key=raw.key,
            value=raw.value,
            headers=tuple(raw.headers or ()),
            timestamp_ms=raw.timestamp,
        )


class Poison(Struct, frozen=True):
    """A record the assessment cannot use: it goes to the dead-letter topic."""

    record: Record
    reason: str  # short code: REASONS
    errors: str  # JSON text with the details
    event: Event | FastEvent | None = None  # when it decoded (a conflict, a store or rule failure)


# Why a record is parked (the `dlq-reason` header and `assessment deadletters --reason`).
REASONS = (
    "empty",
    "unparseable",
    "unknown_type",
    "unsupported_version",
    "invalid",
    "unstorable",
    "conflicting_duplicate",
    "fold_error",
)


class Decoded(Struct, frozen=True):
    events: list[Event | FastEvent]
    poison: list[Poison]


def decode(records: Iterable[Record]) -> Decoded:
    events: list[Event | FastEvent] = []
    poison: list[Poison] = []
    for record in records:
        outcome = decode_one(record)
        if isinstance(outcome, Poison):
            poison.append(outcome)
        else:
            events.append(outcome)
    return Decoded(events=events, poison=poison)


def decode_one(record: Record) -> Event | FastEvent | Poison:
    """Through the msgspec Structs when they can decide, else the pydantic contract."""
    outcome = decode_value_fast(record.value, record.header(topics.HEADER_SCHEMA_VERSION))
    if isinstance(outcome, tuple):
        reason, errors = outcome
        return Poison(record, reason, errors)
    return outcome


def decode_checked(record: Record) -> Event | FastEvent | Poison:
    """`decode_one`, and the event must also fit the store."""
    outcome = decode_one(record)
    if isinstance(outcome, Poison):
        return outcome
    problem = store_problem(outcome)
    if problem is not None:
        return Poison(record, "unstorable", _json([problem]), outcome)
    return outcome


def store_problem(event: Event | FastEvent) -> dict[str, object] | None:
    """A value of the event that the projection store cannot hold, or None.

    Every text that reaches a column is a code or matches the contract's id patterns
    (visible ASCII: no U+0000, no lone surrogates), so only instants can fall outside
    what timestamptz and asyncpg round-trip: a record that bypassed intake's bounds."""
    if (
        isinstance(event, Envelope)
        and _inside(event.occurred_text)
        and _inside(event.recorded_text)
    ):
        return None  # read as datetimes and compared, both were 5 % of a live fold
    for name in ("occurred_at", "recorded_at"):
        value = getattr(event, name)
        if value is None:
            continue
        try:
            inside = EARLIEST <= value < LATEST_STORABLE
        except OverflowError:  # an offset pushes the instant out of Python's range
            inside = False
        if not inside:
            return {
                "loc": [name],
                "msg": f"{name} is outside 2000-01-01T00:00:00Z .. 9999-01-01T00:00:00Z",
                "type": "unstorable_instant",
            }
    return None


def _inside(canonical: str) -> bool:
    """A canonical instant (it starts with a 4-digit year) of a year from 2001 to 9997:
    inside the storable range whatever its offset (less than a day)."""
    return "2001" <= canonical[:4] <= "9997"


def decode_value(value: bytes | None, schema_version: str | None) -> Event | tuple[str, str]:
    """The event, or (reason, errors as JSON) when the record cannot be used."""
    if schema_version is not None and schema_version != str(SCHEMA_VERSION):
        return "unsupported_version", _json({"schema-version": schema_version})
    if not value:
        return "empty", _json({"value": None})
    try:
        return parse_recorded(value)
    except ValidationError as error:
        return _reason(error), _json(_details(error))


def decode_value_fast(
    value: bytes | None, schema_version: str | None
) -> FastEvent | Event | tuple[str, str]:
    """`decode_value`, through the msgspec Structs when they can decide (the canonical
    form intake writes), else through the pydantic contract: same accept/reject, same
    values (tests/unit/shared/test_fast_events.py)."""
    if value and (schema_version is None or schema_version == str(SCHEMA_VERSION)):
        try:
            return parse_recorded_fast(value)
        except NotFast:
            pass
    return decode_value(value, schema_version)


def digest_of(event: Event | FastEvent) -> bytes:
    """The content digest of either form (the same bytes for the same event)."""
    if isinstance(event, FastEvent):
        return fast_digest(event)
    return content_digest(event)


def _reason(error: ValidationError) -> str:
    kinds = {item["type"] for item in error.errors()}
    if kinds & {"json_invalid", "json_type"}:
        return "unparseable"
    if kinds & {"union_tag_invalid", "union_tag_not_found"}:
        return "unknown_type"
    return "invalid"


def _details(error: ValidationError) -> Sequence[dict[str, object]]:
    return [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
        for item in error.errors(include_url=False, include_input=False)
    ]


def _json(value: object) -> str:
    return orjson.dumps(value).decode()
