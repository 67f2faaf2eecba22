"""The msgspec Structs of the fold's hot path decide exactly as the pydantic contract.

Over generated valid events and over mutations of them (a field dropped, added, given
another JSON value; instants in other spellings or out of bounds; raw bytes spliced):
`decode_value_fast` gives what `decode_value` gives — the same poison reason and errors,
or an event with the same values and the same content digest — and the Structs alone
never accept what the contract rejects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import msgspec
import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from services.assessment.domain.records import (
    decode_value,
    decode_value_fast,
    digest_of,
    store_problem,
)
from shared.events import content_digest
from shared.fast_events import FastEvent, NotFast, parse_recorded_fast, utc_text
from tests.support.events import events, to_json

RECORDED_AT = st.sampled_from(
    [
        "2026-11-01T00:00:00Z",
        "2026-11-01T08:00:00.123456+08:00",
        "2026-11-01T00:00:00.5Z",
        "2026-11-01t00:00:00z",  # legal, not canonical: pydantic decides
    ]
)
ODD_INSTANTS = st.one_of(
    st.sampled_from(
        [
            "2026-01-05T09:30:00.1234567Z",  # msgspec would round, pydantic truncates
            "2026-01-05T09:30:00.9999999Z",
            "2026-01-05 09:30:00+08:00",
            "2026-01-05T09:30:00+0800",
            "2026-01-05T09:30Z",
            "2026-01-05T09:30:00",
            "2026-01-05T24:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-05T09:30:00+14:00",
            "2026-01-05T09:30:00+14:01",
            "2026-01-05T09:30:00-14:00",
            "2026-01-05T09:30:00+23:59",
            "1999-12-31T23:59:59.999999Z",
            "2000-01-01T00:00:00Z",
            "2000-01-01T08:00:00+08:00",
            "2000-01-01T07:59:59+08:00",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00Z",
            "2026-01-05T09:30:00Z\n",
            "2026-01-05T09:30:00,5Z",
            "",
        ]
    ),
    st.from_regex(
        r"\A(19|20|99)\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-6]\d:[0-6]\d(\.\d{1,8})?(Z|[+-][01]\d:[0-6]\d)\Z"
    ),
)
JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),  # what JSON encoders write
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    st.sampled_from(["x\n", "a b", "E1024\n", "ok", "other", "study", "unit-1", "é"]),
    st.lists(st.none(), max_size=2),
    st.just({}),
    ODD_INSTANTS,
)


@st.composite
def wire_events(draw: st.DrawFn) -> dict[str, Any]:
    event = to_json(draw(events()))
    event["recorded_at"] = draw(RECORDED_AT)
    return event


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    event = draw(wire_events())
    path = draw(st.sampled_from(_paths(event)))
    *parents, last = path
    holder: Any = event
    for step in parents:
        holder = holder[step]
    action = draw(st.sampled_from(["drop", "replace", "instant", "add", "splice"]))
    if action == "drop" and isinstance(holder, dict):
        del holder[last]
    elif action == "add" and isinstance(holder, dict):
        holder[draw(st.sampled_from(["extra", "Type", "id ", "note"]))] = draw(JSON_VALUES)
    elif action == "instant":
        holder[last] = draw(ODD_INSTANTS)
    else:
        holder[last] = draw(JSON_VALUES)
    raw = orjson.dumps(event)
    if action == "splice":
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        piece = draw(st.sampled_from([b"", b",", b"}", b"\\ud800", b"\x00", b"\xff"]))
        raw = raw[:at] + piece + raw[at:]
    return raw


def plain(value: Any) -> Any:
    """Comparable values of either form: field names to values, instants with offsets."""
    if isinstance(value, BaseModel):
        return {name: plain(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, msgspec.Struct):
        # By wire name: the envelope keeps its instants as text and reads them as
        # datetimes through properties of the wire names (occurred_at, recorded_at).
        fields = {name: plain(getattr(value, name)) for name in value.__struct_encode_fields__}
        if hasattr(value, "type"):
            fields["type"] = value.type
        return fields
    if isinstance(value, datetime):
        return (value.isoformat(), value.utcoffset())
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def assert_same(raw: bytes) -> None:
    slow = decode_value(raw, "1")
    fast = decode_value_fast(raw, "1")
    try:
        alone: FastEvent | None = parse_recorded_fast(raw)
    except NotFast:
        alone = None
    if isinstance(slow, tuple):
        assert fast == slow
        assert alone is None, "the Structs accepted what the contract rejects"
        return
    assert not isinstance(fast, tuple)
    assert plain(fast) == plain(slow)
    assert digest_of(fast) == content_digest(slow)
    assert store_problem(fast) == store_problem(slow)
    if alone is not None:
        assert plain(alone) == plain(slow)


SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(wire_events())
def test_valid_events_decode_alike(event: dict[str, Any]) -> None:
    raw = orjson.dumps(event)
    assert_same(raw)
    if event["recorded_at"][10] == "T" and event["occurred_at"][10] == "T":
        # The canonical form (what intake writes) takes the fast path.
        assert isinstance(decode_value_fast(raw, "1"), msgspec.Struct)


@SETTINGS
@given(mutated())
@example(b'{"id":"a\\n","source":"s","occurred_at":"2026-01-05T09:30:00Z","unit_id":"u",'
         b'"recorded_at":"2026-01-05T09:30:00Z","type":"commendation.recorded",'
         b'"data":{"commendation_id":"c","kind":"other","summary":"x"}}')  # fmt: skip
@example(b'{"id":"a","source":"s","occurred_at":"2026-01-05T09:30:00Z","unit_id":"u",'
         b'"recorded_at":"2026-01-05T09:30:00Z","type":"commendation.recorded",'
         b'"data":{"commendation_id":"c","kind":"other","summary":"x\\ud800"}}')  # fmt: skip
@example(b'{"id":"a","id":"b","source":"s","occurred_at":"2026-01-05T09:30:00Z","unit_id":"u",'
         b'"recorded_at":"2026-01-05T09:30:00Z","type":"commendation.recorded",'
         b'"data":{"commendation_id":"c","kind":"other","summary":"x"}}')  # fmt: skip
def test_odd_and_invalid_events_decide_alike(raw: bytes) -> None:
    assert_same(raw)


def test_schema_version_and_empty_values_decide_alike() -> None:
    raw = b'{"id":"a"}'
    assert decode_value_fast(raw, "2") == decode_value(raw, "2")
    assert decode_value_fast(None, "1") == decode_value(None, "1")
    assert decode_value_fast(b"", None) == decode_value(b"", None)


@settings(max_examples=300, deadline=None)
@given(
    local=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2199, 12, 30)),
    offsets=st.lists(
        st.tuples(st.integers(min_value=-23, max_value=23), st.sampled_from([0, 0, 30, 45])),
        min_size=2,
        max_size=4,
    ),
    fraction=st.booleans(),
)
def test_utc_text_is_isoformat_in_utc(
    local: datetime, offsets: list[tuple[int, int]], fraction: bool
) -> None:
    """Its shortcut for whole-hour offsets (a conversion kept per local hour and offset)
    gives what the conversion itself gives, across days, months, years and leap days, and
    for one local time at several offsets."""
    local = local if fraction else local.replace(microsecond=0)
    for hours, minutes in offsets:
        text = f"{local.isoformat()}{'-' if hours < 0 else '+'}{abs(hours):02d}:{minutes:02d}"
        expected = datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")
        assert utc_text(text) == expected
        assert utc_text(text) == expected  # again, from what it kept


_EDGE_INSTANTS = st.builds(
    lambda year, rest, hours, minutes: (
        f"{year}-{rest.strftime('%m-%dT%H:%M:%S')}{'-' if hours < 0 else '+'}"
        f"{abs(hours):02d}:{minutes:02d}"
    ),
    st.sampled_from([1999, 2000, 2001, 9997, 9998, 9999]),
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2001, 12, 31, 23, 59, 59)),
    st.integers(min_value=-23, max_value=23),
    st.sampled_from([0, 30, 59]),
) | st.sampled_from(
    ["2000-01-01T07:59:59+08:00", "9998-12-31T23:00:00-01:00", "2001-01-01T00:00:00Z"]
)


@settings(max_examples=400, deadline=None)
@given(event=wire_events(), occurred_at=_EDGE_INSTANTS, recorded_at=_EDGE_INSTANTS)
def test_the_storable_range_is_decided_alike_near_its_ends(
    event: dict[str, Any], occurred_at: str, recorded_at: str
) -> None:
    """The fast form's shortcut (years 2001-9997 are inside whatever the offset) agrees
    with the instants compared, at the years where the offset decides."""
    raw = orjson.dumps({**event, "occurred_at": occurred_at, "recorded_at": recorded_at})
    try:
        fast = parse_recorded_fast(raw)
    except NotFast:
        return  # the contract's path alone (out of bounds, or not canonical)
    slow = decode_value(raw, "1")
    assert not isinstance(slow, tuple)
    assert store_problem(fast) == store_problem(slow)
