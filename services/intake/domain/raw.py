"""The Kafka-native intake's decision for one raw record: an event, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.events import Event

from .validation import BodyError, InvalidEventsError, validate_one

# Reasons a raw record is dead-lettered (the dlq-reason header).
EMPTY = "empty"
NOT_UTF8 = "not_utf8"
NOT_JSON = "not_json"
NOT_AN_OBJECT = "not_an_object"
INVALID_EVENT = "invalid_event"
TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    errors: list[dict[str, Any]] = field(default_factory=list)


def check_raw(value: bytes | None, *, received_at: datetime) -> Event | Refusal:
    if not value:
        return Refusal(EMPTY, [{"loc": [], "msg": "the record has no value"}])
    try:
        return validate_one(value, received_at=received_at)
    except InvalidEventsError as invalid:
        return Refusal(INVALID_EVENT, [{"loc": list(e.loc), "msg": e.msg} for e in invalid.errors])
    except BodyError as rejected:
        if rejected.code == "not_an_object":
            return Refusal(NOT_AN_OBJECT, [{"loc": [], "msg": rejected.detail}])
        return Refusal(_unparseable_reason(value), [{"loc": [], "msg": rejected.detail}])


def _unparseable_reason(value: bytes) -> str:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    return NOT_JSON
