"""The event contract as msgspec Structs: the fold's hot path (rebuild and live).

pydantic (`shared.events`) stays the public contract (OpenAPI, JSON Schema, intake).
These Structs only speed up reading events back from events.v1, and only where they
are sure: they accept a subset of what `parse_recorded` accepts — the canonical form
intake writes (instants as `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`, patterns matched
whole) — and for that subset give the same values. Anything else raises `NotFast` and
the caller asks pydantic, which decides (and words the errors). A hypothesis property
test (tests/unit/shared/test_fast_events.py) holds the two to that.

Why: a pydantic model costs several Python objects per event (model, data model,
`__dict__`s, field sets) that the cyclic collector then walks while a batch is alive;
a Struct is one object without a `__dict__`, decoded in C (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeAlias

import msgspec

from shared.catalogue import (
    Category,
    Channel,
    CommendationKind,
    FindingCode,
    Handling,
    InspectionMode,
    Outcome,
)
from shared.events import EARLIEST, MAX_FINDINGS, MAX_OFFSET

# Python's `re` lets `$` match before a final newline; the contract's (Rust) regexes do
# not: msgspec applies patterns with re.search, so anchor with \Z.
_ID = r"^[\x21-\x7e]{1,128}\Z"
_SOURCE = r"^[a-z0-9._-]{1,64}\Z"
_UNIT = r"^[A-Za-z0-9._:/-]{1,64}\Z"
_PHONE = r"^[0-9+() -]{3,32}\Z"
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")

EventId = Annotated[str, msgspec.Meta(pattern=_ID)]
Source = Annotated[str, msgspec.Meta(pattern=_SOURCE)]
UnitId = Annotated[str, msgspec.Meta(pattern=_UNIT)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class NotFast(Exception):  # noqa: N818 (not an error: a hand-over)
    """The Structs cannot decide this value: ask the pydantic contract."""


class Instant(datetime):
    """An instant in the canonical RFC 3339 form (decoded by `_instant`, not by msgspec:
    msgspec rounds a 7th fractional digit where pydantic truncates, and reads forms
    pydantic reads differently)."""


def _instant(kind: type, value: Any) -> Any:
    if kind is Instant and isinstance(value, str) and _INSTANT.fullmatch(value):
        try:
            return Instant.fromisoformat(value)
        except ValueError as error:  # 2026-02-30, hour 24, offset minutes 60
            raise NotFast(str(error)) from error
    raise NotFast(f"not a canonical instant: {value!r}")


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Complainant(_Strict, frozen=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    phone: Annotated[str, msgspec.Meta(pattern=_PHONE)] | None = None


class ComplaintFiledData(_Strict, frozen=True):
    complaint_id: EventId
    channel: Channel
    category: Category
    summary: Text
    handling: Handling = Handling.STUDY
    complainant: Complainant | None = None


class ComplaintResolvedData(_Strict, frozen=True):
    complaint_id: EventId
    outcome: Outcome
    category: Category | None = None
    obstructed: bool = False


class FindingData(_Strict, frozen=True):
    code: FindingCode
    staff_id: UnitId | None = None
    unit_wide: bool = False
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class InspectionRecordedData(_Strict, frozen=True):
    inspection_id: EventId
    mode: InspectionMode
    inspector: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    findings: Annotated[list[FindingData], msgspec.Meta(max_length=MAX_FINDINGS)]


class CommendationRecordedData(_Strict, frozen=True):
    commendation_id: EventId
    kind: CommendationKind
    summary: Text


class _Envelope(_Strict, frozen=True, tag_field="type", kw_only=True):
    id: EventId
    source: Source
    occurred_at: Instant
    unit_id: UnitId
    recorded_at: Instant  # required on events.v1
    staff_id: UnitId | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.id)


class ComplaintFiled(_Envelope, frozen=True, tag="complaint.filed", kw_only=True):
    data: ComplaintFiledData

    @property
    def type(self) -> Literal["complaint.filed"]:
        return "complaint.filed"


class ComplaintResolved(_Envelope, frozen=True, tag="complaint.resolved", kw_only=True):
    data: ComplaintResolvedData

    @property
    def type(self) -> Literal["complaint.resolved"]:
        return "complaint.resolved"


class InspectionRecorded(_Envelope, frozen=True, tag="inspection.recorded", kw_only=True):
    data: InspectionRecordedData

    @property
    def type(self) -> Literal["inspection.recorded"]:
        return "inspection.recorded"


class CommendationRecorded(_Envelope, frozen=True, tag="commendation.recorded", kw_only=True):
    data: CommendationRecordedData

    @property
    def type(self) -> Literal["commendation.recorded"]:
        return "commendation.recorded"


FastEvent: TypeAlias = (
    ComplaintFiled | ComplaintResolved | InspectionRecorded | CommendationRecorded
)

_DECODER = msgspec.json.Decoder(FastEvent, dec_hook=_instant)


def parse_recorded_fast(raw: bytes) -> FastEvent:
    """`shared.events.parse_recorded` for the canonical form, or NotFast."""
    try:
        event = _DECODER.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise NotFast(str(error)) from error
    occurred_at = event.occurred_at
    offset = occurred_at.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET or occurred_at < EARLIEST:
        raise NotFast("occurred_at outside the contract's bounds")
    return event


_ENCODER = msgspec.json.Encoder()


def fast_digest(event: FastEvent) -> bytes:
    """`shared.events.content_digest`, byte for byte: the canonical JSON that pydantic's
    `model_dump_json(exclude_none=True)` writes (fields in declaration order, the
    instant in UTC, `recorded_at` left out), hashed the same way."""
    head: dict[str, Any] = {
        "id": event.id,
        "source": event.source,
        "occurred_at": _utc_text(event.occurred_at),
        "unit_id": event.unit_id,
    }
    if event.staff_id is not None:
        head["staff_id"] = event.staff_id
    head["type"] = event.type
    head["data"] = _data(event)
    return hashlib.blake2b(_ENCODER.encode(head), digest_size=16).digest()


def _utc_text(value: datetime) -> str:
    # isoformat writes microseconds only when there are some, as pydantic does.
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _data(event: FastEvent) -> dict[str, Any]:
    match event:
        case ComplaintFiled(data=d):
            out: dict[str, Any] = {
                "complaint_id": d.complaint_id,
                "channel": d.channel.value,
                "category": d.category.value,
                "handling": d.handling.value,
                "summary": d.summary,
            }
            if d.complainant is not None:
                out["complainant"] = _present(
                    {"name": d.complainant.name, "phone": d.complainant.phone}
                )
            return out
        case ComplaintResolved(data=d):
            return _present(
                {
                    "complaint_id": d.complaint_id,
                    "outcome": d.outcome.value,
                    "category": d.category.value if d.category is not None else None,
                    "obstructed": d.obstructed,
                }
            )
        case InspectionRecorded(data=d):
            return {
                "inspection_id": d.inspection_id,
                "mode": d.mode.value,
                "inspector": d.inspector,
                "findings": [
                    _present(
                        {
                            "code": f.code.value,
                            "staff_id": f.staff_id,
                            "unit_wide": f.unit_wide,
                            "note": f.note,
                        }
                    )
                    for f in d.findings
                ],
            }
        case CommendationRecorded(data=d):
            return {
                "commendation_id": d.commendation_id,
                "kind": d.kind.value,
                "summary": d.summary,
            }


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}
