"""From request bytes to validated events, or a precise account of what is wrong.

Two steps, so that each rejection has its own status: `split_submission` looks at
the shape (one object or an array of 1..max objects: 400 otherwise), then
`validate_events` validates the same JSON text against the contract (422).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from shared.catalogue import EventType
from shared.events import Event, parse_inbound, parse_inbound_list

Loc = tuple[str | int, ...]

_EVENT_TYPES = frozenset(t.value for t in EventType)
_TYPE_LIST = ", ".join(t.value for t in EventType)
_TAG_NOT_FOUND = "union_tag_not_found"
_TAG_INVALID = "union_tag_invalid"
_JSON_WHITESPACE = re.compile(rb"[ \t\n\r]*")


class BodyError(Exception):
    """The body as a whole is unusable (HTTP 400); `code` is a short stable reason."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class BatchTooLargeError(BodyError):
    """More events than one request may carry (HTTP 413, CONTRACT.md)."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem in one event; `loc` is relative to the event, e.g. ("data", "category")."""

    index: int
    loc: Loc
    msg: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "loc": list(self.loc), "msg": self.msg}

    @property
    def path(self) -> str:
        """`data.findings.0.code`, or `(event)` when the event as a whole is wrong."""
        return ".".join(str(part) for part in self.loc) or "(event)"


class InvalidEventsError(Exception):
    """At least one event breaks the contract (HTTP 422); nothing may be published."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Submission:
    """The JSON document of a request: its items (raw objects) and whether it was an array."""

    items: list[Any]
    is_batch: bool


def decode_json(body: bytes) -> Any:
    """The JSON document of `body`, refused when malformed or when an object repeats a
    key (orjson would silently keep the last value: which one counts is ambiguous)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BodyError("malformed_json", f"not valid JSON (UTF-8): {error}") from None
    check_unique_keys(body, document)
    return document


def check_unique_keys(body: bytes, document: Any) -> None:
    """Raise `BodyError("duplicate_key")` if an object in `body` repeats a key.

    The cheap test: every key of the text is followed by exactly one colon outside
    strings, and colons inside strings are written as ':' or as the escape \\u003a.
    Re-serialising the parsed document (which kept one value per key) writes every
    colon literally, so without that escape both texts hold the same number of colons
    exactly when no key-value pair was dropped. Only when they differ, or the escape
    occurs, is the body parsed again in Python to name the repeated key.
    """
    if b"\\u003" not in body and body.count(b":") == orjson.dumps(document).count(b":"):
        return
    try:
        json.loads(body, object_pairs_hook=_unique_object)
    except _DuplicateKeyError as duplicate:
        raise BodyError(
            "duplicate_key", f"key {duplicate.key!r} appears twice in one JSON object"
        ) from None


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return found


def split_submission(body: bytes, *, max_batch: int) -> Submission:
    document = decode_json(body)
    if isinstance(document, dict):
        return Submission(items=[document], is_batch=False)
    if not isinstance(document, list):
        raise BodyError(
            "not_object_or_array",
            "body must be one event (a JSON object) or a JSON array of events",
        )
    _check_count(len(document), max_batch)
    return Submission(items=document, is_batch=True)


def _check_count(count: int, max_batch: int) -> None:
    if count == 0:
        raise BodyError("empty_batch", f"the array is empty: send 1 to {max_batch} events")
    if count > max_batch:
        raise BatchTooLargeError(
            "batch_too_large", f"the array has {count} events; at most {max_batch} per request"
        )


def validate_events(body: bytes, *, is_batch: bool, received_at: datetime) -> list[Event]:
    """Validate the JSON text of a submission already accepted by `split_submission`."""
    try:
        if is_batch:
            return parse_inbound_list(body, received_at=received_at)
        return [parse_inbound(body, received_at=received_at)]
    except ValidationError as error:
        raise InvalidEventsError(field_errors(error, is_batch=is_batch)) from None


def validate_submission(body: bytes, *, max_batch: int, received_at: datetime) -> list[Event]:
    """`split_submission` then `validate_events`, parsing a good body only once.

    pydantic parses and validates in one pass; the document's shape is looked at
    separately only when something is wrong, so that a 400 still comes before a 422.
    (A token limited to some sources needs the raw items first: `split_submission`.)
    """
    blank = _JSON_WHITESPACE.match(body)
    at = blank.end() if blank else 0
    first = body[at : at + 1]
    if first not in (b"[", b"{"):
        split_submission(body, max_batch=max_batch)  # raises the 400 that fits
        raise BodyError("not_object_or_array", "body must be a JSON object or array")
    is_batch = first == b"["
    try:
        events = validate_events(body, is_batch=is_batch, received_at=received_at)
    except InvalidEventsError:
        split_submission(body, max_batch=max_batch)  # too many, say, before which are bad
        raise
    if is_batch:
        _check_count(len(events), max_batch)
    decode_json(body)  # refuses repeated keys: pydantic, too, would keep the last value
    return events


def validate_one(body: bytes, *, received_at: datetime) -> Event:
    """One event from JSON text of any shape (the Kafka-native intake)."""
    document = decode_json(body)
    if not isinstance(document, dict):
        raise BodyError("not_an_object", "a record must hold one event as a JSON object")
    return validate_events(body, is_batch=False, received_at=received_at)[0]


def field_errors(error: ValidationError, *, is_batch: bool) -> list[FieldError]:
    """pydantic's errors with locations relative to each event.

    The tagged union puts the event type into the location (`(0, "complaint.filed",
    "data", "category")`); that element is dropped. A missing or unknown type is
    reported at `("type",)`.
    """
    found: list[FieldError] = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        loc: Loc = tuple(item["loc"])
        if item["type"] == "json_invalid" or (is_batch and not loc):
            # orjson accepted what pydantic's parser refuses (rare edge cases).
            raise BodyError("malformed_json", f"body is not valid JSON: {item['msg']}")
        index = 0
        if is_batch:
            index, loc = int(loc[0]), loc[1:]
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == _TAG_NOT_FOUND:
            loc, msg = ("type",), f"Field required: one of {_TYPE_LIST}"
        elif item["type"] == _TAG_INVALID:
            loc, msg = ("type",), f"Input should be one of {_TYPE_LIST}"
        elif loc and loc[0] in _EVENT_TYPES:
            loc = loc[1:]
        found.append(FieldError(index=index, loc=loc, msg=msg))
    return found
