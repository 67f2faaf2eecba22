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
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

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
_UNIT = r"^[A-Za-z0-9._:/-]{1,64}\Z"
_PHONE = r"^[0-9+() -]{3,32}\Z"

# The envelope is checked by one regex over its fields joined by NUL (which no field
# may hold, so the fields cannot shift): one call per event instead of one per field
# and a Python hook per instant (docs/performance.md). Digits are ASCII only ([0-9],
# not \d); fullmatch, so nothing trails.
_INSTANT = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_ENVELOPE = (
    r"[\x21-\x7e]{1,128}\x00[a-z0-9._-]{1,64}\x00[A-Za-z0-9._:/-]{1,64}\x00"
    + _INSTANT + r"\x00" + _INSTANT
)  # fmt: skip
_ENVELOPE_ALONE = re.compile(_ENVELOPE)
_ENVELOPE_WITH_STAFF = re.compile(_ENVELOPE + r"\x00[A-Za-z0-9._:/-]{1,64}")

EventId = Annotated[str, msgspec.Meta(pattern=_ID)]
UnitId = Annotated[str, msgspec.Meta(pattern=_UNIT)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class NotFast(Exception):  # noqa: N818 (not an error: a hand-over)
    """The Structs cannot decide this value: ask the pydantic contract."""


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


class Envelope(_Strict, frozen=True, tag_field="type", kw_only=True):
    """The instants are kept as the text that was sent (checked canonical by
    `parse_recorded_fast`): the rebuild's COPY passes that text to PostgreSQL as is,
    and `occurred_at` / `recorded_at` read it as the contract's datetime when asked."""

    id: str
    source: str
    occurred_text: str = msgspec.field(name="occurred_at")
    unit_id: str
    recorded_text: str = msgspec.field(name="recorded_at")  # required on events.v1
    staff_id: str | None = None
    type_name: ClassVar[str]

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(self.occurred_text)

    @property
    def recorded_at(self) -> datetime:
        return datetime.fromisoformat(self.recorded_text)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.id)


class ComplaintFiled(Envelope, frozen=True, tag="complaint.filed", kw_only=True):
    data: ComplaintFiledData

    type_name: ClassVar[str] = "complaint.filed"

    @property
    def type(self) -> Literal["complaint.filed"]:
        return "complaint.filed"


class ComplaintResolved(Envelope, frozen=True, tag="complaint.resolved", kw_only=True):
    data: ComplaintResolvedData

    type_name: ClassVar[str] = "complaint.resolved"

    @property
    def type(self) -> Literal["complaint.resolved"]:
        return "complaint.resolved"


class InspectionRecorded(Envelope, frozen=True, tag="inspection.recorded", kw_only=True):
    data: InspectionRecordedData

    type_name: ClassVar[str] = "inspection.recorded"

    @property
    def type(self) -> Literal["inspection.recorded"]:
        return "inspection.recorded"


class CommendationRecorded(Envelope, frozen=True, tag="commendation.recorded", kw_only=True):
    data: CommendationRecordedData

    type_name: ClassVar[str] = "commendation.recorded"

    @property
    def type(self) -> Literal["commendation.recorded"]:
        return "commendation.recorded"


FastEvent: TypeAlias = (
    ComplaintFiled | ComplaintResolved | InspectionRecorded | CommendationRecorded
)

_DECODER = msgspec.json.Decoder(FastEvent)


def parse_recorded_fast(raw: bytes) -> FastEvent:
    """`shared.events.parse_recorded` for the canonical form, or NotFast."""
    try:
        event = _DECODER.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise NotFast(str(error)) from error
    fields = (
        f"{event.id}\0{event.source}\0{event.unit_id}\0{event.occurred_text}\0{event.recorded_text}"
    )
    staff = event.staff_id
    if staff is None:
        canonical = _ENVELOPE_ALONE.fullmatch(fields)
    else:
        canonical = _ENVELOPE_WITH_STAFF.fullmatch(f"{fields}\0{staff}")
    if canonical is None:
        raise NotFast("not the canonical envelope")
    try:  # 2026-02-30, hour 24, offset minutes 60
        occurred_at = datetime.fromisoformat(event.occurred_text)
        datetime.fromisoformat(event.recorded_text)
    except ValueError as error:
        raise NotFast(str(error)) from error
    offset = occurred_at.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET or occurred_at < EARLIEST:
        raise NotFast("occurred_at outside the contract's bounds")
    return event


_ENCODER = msgspec.json.Encoder()
_blake2b = hashlib.blake2b


def fast_digest(event: FastEvent) -> bytes:
    """`shared.events.content_digest`, byte for byte: the canonical JSON that pydantic's
    `model_dump_json(exclude_none=True)` writes (fields in declaration order, the
    instant in UTC, `recorded_at` left out), hashed the same way. Enums are encoded as
    their values by msgspec; dicts are built literally (no helper per field)."""
    data = _DATA[event.type_name](event.data)
    staff = event.staff_id
    if staff is None:
        head = {
            "id": event.id, "source": event.source,
            "occurred_at": utc_text(event.occurred_text), "unit_id": event.unit_id,
            "type": event.type_name, "data": data,
        }  # fmt: skip
    else:
        head = {
            "id": event.id, "source": event.source,
            "occurred_at": utc_text(event.occurred_text), "unit_id": event.unit_id,
            "staff_id": staff, "type": event.type_name, "data": data,
        }  # fmt: skip
    return _blake2b(_ENCODER.encode(head), digest_size=16).digest()


def utc_text(instant: str) -> str:
    """A canonical instant as pydantic writes it in UTC: `Z`, and microseconds only when
    there are some (isoformat's rule). Already so when it is in UTC without a fraction.

    Without a fraction and at an offset of whole hours (most zones), only the date and
    hour change, and they depend on the local date, hour and offset alone: those are
    converted once per local hour and offset (the conversion was 40 % of the digest)."""
    if len(instant) == 20 and instant[19] == "Z":
        return instant
    if len(instant) == 25 and instant[23:] == "00":  # YYYY-MM-DDTHH:MM:SS±HH:00
        key = instant[:13] + instant[19:22]
        hour = _UTC_HOURS.get(key)
        if hour is None:
            if len(_UTC_HOURS) >= _UTC_HOURS_KEPT:
                _UTC_HOURS.clear()
            hour = _UTC_HOURS[key] = _to_utc(instant)[:13]
        return hour + instant[13:19] + "Z"
    return _to_utc(instant)


_UTC_HOURS: dict[str, str] = {}  # local "YYYY-MM-DDTHH" and "±HH" -> UTC "YYYY-MM-DDTHH"
_UTC_HOURS_KEPT = 100_000  # about ten years of hours at one offset


def _to_utc(instant: str) -> str:
    return datetime.fromisoformat(instant).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _filed(d: ComplaintFiledData) -> dict[str, Any]:
    out: dict[str, Any] = {
        "complaint_id": d.complaint_id, "channel": d.channel, "category": d.category,
        "handling": d.handling, "summary": d.summary,
    }  # fmt: skip
    complainant = d.complainant
    if complainant is not None:
        person: dict[str, Any] = {}
        if complainant.name is not None:
            person["name"] = complainant.name
        if complainant.phone is not None:
            person["phone"] = complainant.phone
        out["complainant"] = person
    return out


def _resolved(d: ComplaintResolvedData) -> dict[str, Any]:
    if d.category is None:
        return {"complaint_id": d.complaint_id, "outcome": d.outcome, "obstructed": d.obstructed}
    return {
        "complaint_id": d.complaint_id, "outcome": d.outcome, "category": d.category,
        "obstructed": d.obstructed,
    }  # fmt: skip


def _finding(f: FindingData) -> dict[str, Any]:
    out: dict[str, Any] = {"code": f.code}
    if f.staff_id is not None:
        out["staff_id"] = f.staff_id
    out["unit_wide"] = f.unit_wide
    if f.note is not None:
        out["note"] = f.note
    return out


def _inspection(d: InspectionRecordedData) -> dict[str, Any]:
    return {
        "inspection_id": d.inspection_id, "mode": d.mode, "inspector": d.inspector,
        "findings": [_finding(f) for f in d.findings],
    }  # fmt: skip


def _commendation(d: CommendationRecordedData) -> dict[str, Any]:
    return {"commendation_id": d.commendation_id, "kind": d.kind, "summary": d.summary}


_DATA: dict[str, Any] = {
    "complaint.filed": _filed,
    "complaint.resolved": _resolved,
    "inspection.recorded": _inspection,
    "commendation.recorded": _commendation,
}
