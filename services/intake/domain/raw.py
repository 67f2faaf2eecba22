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
# The record's `source` is not the one its topic (intake.raw.v1.<source>) carries: only
# that source's principal may write the topic, so the payload's claim is not trusted.
SOURCE_NOT_ALLOWED = "source_not_allowed"


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    errors: list[dict[str, Any]] = field(default_factory=list)


def check_raw(
    value: bytes | None, *, received_at: datetime, topic_source: str | None = None
) -> Event | Refusal:
    """`topic_source`: the one source the record's topic carries (None: any source)."""
    if not value:
        return Refusal(EMPTY, [{"loc": [], "msg": "the record has no value"}])
    try:
        event = validate_one(value, received_at=received_at)
    except InvalidEventsError as invalid:
        return Refusal(INVALID_EVENT, [{"loc": list(e.loc), "msg": e.msg} for e in invalid.errors])
    except BodyError as rejected:
        if rejected.code == "not_an_object":
            return Refusal(NOT_AN_OBJECT, [{"loc": [], "msg": rejected.detail}])
        return Refusal(_unparseable_reason(value), [{"loc": [], "msg": rejected.detail}])
    if topic_source is not None and event.source != topic_source:
        message = f"this topic carries source {topic_source!r} only, not {event.source!r}"
        return Refusal(SOURCE_NOT_ALLOWED, [{"loc": ["source"], "msg": message}])
    return event


def _unparseable_reason(value: bytes) -> str:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    return NOT_JSON
