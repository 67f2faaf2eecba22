"""Kafka records of events.v1 -> validated events, or poison with a reason."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from shared import topics
from shared.events import SCHEMA_VERSION, Event, parse_recorded


@dataclass(frozen=True, slots=True)
class Record:
    """What the service needs of one Kafka record, whichever client read it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()

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
        )


@dataclass(frozen=True, slots=True)
class Poison:
    """A record the assessment cannot use: it goes to the dead-letter topic."""

    record: Record
    reason: str  # short code: empty | unparseable | unknown_type | unsupported_version | invalid
    errors: str  # JSON text with the details


@dataclass(frozen=True, slots=True)
class Decoded:
    events: list[Event]
    poison: list[Poison]


def decode(records: Iterable[Record]) -> Decoded:
    events: list[Event] = []
    poison: list[Poison] = []
    for record in records:
        outcome = decode_one(record)
        if isinstance(outcome, Poison):
            poison.append(outcome)
        else:
            events.append(outcome)
    return Decoded(events=events, poison=poison)


def decode_one(record: Record) -> Event | Poison:
    outcome = decode_value(record.value, record.header(topics.HEADER_SCHEMA_VERSION))
    if isinstance(outcome, tuple):
        reason, errors = outcome
        return Poison(record, reason, errors)
    return outcome


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
