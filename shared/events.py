"""The event contract (CONTRACT.md): the envelope and the four event types.

Models are strict: unknown fields are rejected, nothing is coerced (no "true" for
true, no numbers for strings or times), `occurred_at` needs an RFC 3339 offset.
Always validate from JSON text (`parse_event`, `parse_events`): strict mode would
refuse a Python `datetime` given as a string.

Validation context (pydantic `context=`):
- `{"received_at": datetime}` — intake: `occurred_at` may be at most
  `FUTURE_TOLERANCE` after it, and `recorded_at` must be absent (intake sets it).
- `{"recorded": True}` — events read back from `events.v1`: `recorded_at` is
  required and the future check is skipped (a replay happens long after intake).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from shared.catalogue import (
    Category,
    Channel,
    CommendationKind,
    EventType,
    FindingCode,
    Handling,
    InspectionMode,
    Outcome,
)

SCHEMA_VERSION = 1
FUTURE_TOLERANCE = timedelta(minutes=5)
# CONTRACT.md: no instant before this, and offsets within ±14:00 (the widest in use).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=14)
MAX_FINDINGS = 1000

ID_PATTERN = r"^[\x21-\x7e]{1,128}$"  # visible ASCII: no spaces or control characters
SOURCE_PATTERN = r"^[a-z0-9._-]{1,64}$"
UNIT_PATTERN = r"^[A-Za-z0-9._:/-]{1,64}$"

EventId = Annotated[
    str,
    Field(
        pattern=ID_PATTERN,
        description="Upstream id, unique per source; with `source` it is the idempotency key.",
        examples=["c-2026-000123"],
    ),
]
UnitId = Annotated[
    str,
    Field(
        pattern=UNIT_PATTERN,
        description="Unit (科室、部门、公司、网点), 1-64 chars of [A-Za-z0-9._:/-].",
        examples=["qsb/licensing"],
    ),
]
StaffId = Annotated[
    str,
    Field(
        pattern=UNIT_PATTERN,
        description="Staff member, 1-64 chars of [A-Za-z0-9._:/-].",
        examples=["E1024"],
    ),
]
BusinessId = Annotated[str, Field(pattern=ID_PATTERN, examples=["Q-2026-0001"])]
Text = Annotated[str, Field(min_length=1, max_length=4000)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Complainant(_Strict):
    """Personal data of the complainant: stored for case handling, never returned."""

    name: str | None = Field(default=None, min_length=1, max_length=100, examples=["张女士"])
    phone: str | None = Field(
        default=None, pattern=r"^[0-9+() -]{3,32}$", examples=["138-0000-0000"]
    )


class ComplaintFiledData(_Strict):
    complaint_id: BusinessId = Field(description="The complaint's case number.")
    channel: Channel = Field(description="How it was received.", examples=["hotline"])
    category: Category = Field(description="Complaint ground (DOMAIN.md table).")
    handling: Handling = Field(
        default=Handling.STUDY,
        description="Time-limit class: immediate (same day), approval (2 working days), "
        "study (7 working days).",
    )
    summary: Text = Field(description="What the complaint says.", examples=["办事窗口态度生硬"])
    complainant: Complainant | None = Field(
        default=None, description="Personal data; never returned by any query."
    )


class ComplaintResolvedData(_Strict):
    complaint_id: BusinessId = Field(description="The complaint this verdict is about.")
    outcome: Outcome = Field(description="The investigation's verdict.")
    category: Category | None = Field(
        default=None, description="Re-classified finding; the filed category when absent."
    )
    obstructed: bool = Field(
        default=False,
        description="The unit set up obstacles or interfered with the investigation "
        "(设置障碍、干扰调查).",
    )


class FindingData(_Strict):
    code: FindingCode = Field(description="What was found.", examples=["late_arrival"])
    staff_id: StaffId | None = Field(default=None, description="The person the finding names.")
    unit_wide: bool = Field(
        default=False, description="The unit as a whole violated (科室整体违反)."
    )
    note: str | None = Field(default=None, max_length=1000, description="Inspector's note.")


class InspectionRecordedData(_Strict):
    inspection_id: BusinessId = Field(description="The inspection's own id.")
    mode: InspectionMode = Field(description="open (明查), covert (暗访) or system (clock).")
    inspector: str = Field(min_length=1, max_length=128, examples=["督查组-王"])
    findings: list[FindingData] = Field(
        max_length=MAX_FINDINGS, description="Findings; empty for a clean inspection."
    )


class CommendationRecordedData(_Strict):
    commendation_id: BusinessId = Field(description="The commendation's own id.")
    kind: CommendationKind = Field(description="Kind of good deed or award.")
    summary: Text = Field(examples=["拾金不昧，归还乘客遗失的钱包"])


class _Envelope(_Strict):
    id: EventId
    source: str = Field(
        pattern=SOURCE_PATTERN,
        description="Upstream system, 1-64 chars of [a-z0-9._-].",
        examples=["hotline-95598"],
    )
    occurred_at: AwareDatetime = Field(
        description="When it happened: RFC 3339 with an offset within ±14:00, not before "
        "2000-01-01T00:00:00Z, at most 5 minutes ahead.",
        examples=["2026-01-05T09:30:00+08:00"],
        json_schema_extra={"formatMinimum": "2000-01-01T00:00:00Z"},
    )
    unit_id: UnitId
    staff_id: StaffId | None = None
    recorded_at: SkipJsonSchema[AwareDatetime | None] = Field(
        default=None, description="Set by intake when the event is accepted."
    )

    @field_validator("occurred_at")
    @classmethod
    def _within_bounds(cls, value: datetime, info: ValidationInfo) -> datetime:
        offset = value.utcoffset()
        if offset is None or abs(offset) > MAX_OFFSET:
            raise ValueError("occurred_at has an offset beyond ±14:00")
        if value < EARLIEST:
            raise ValueError("occurred_at is before 2000-01-01T00:00:00Z")
        received_at = _context(info).get("received_at")
        if received_at is not None and value > received_at + FUTURE_TOLERANCE:
            raise ValueError("occurred_at is more than 5 minutes in the future")
        return value

    @field_validator("recorded_at")
    @classmethod
    def _recorded_at_not_sent(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        # A field validator, so the error's location names the field and it is
        # reported alongside the event's other errors.
        if value is not None and not _context(info).get("recorded"):
            raise ValueError("recorded_at is set by intake and must not be sent")
        return value

    @model_validator(mode="after")
    def _recorded_at_present_when_recorded(self, info: ValidationInfo) -> _Envelope:
        if _context(info).get("recorded") and self.recorded_at is None:
            raise ValueError("recorded_at is missing: events.v1 carries intake's timestamp")
        return self

    @property
    def key(self) -> tuple[str, str]:
        """(source, id): the identity of an event."""
        return (self.source, self.id)


def _context(info: ValidationInfo) -> dict[str, Any]:
    return info.context if isinstance(info.context, dict) else {}


class ComplaintFiled(_Envelope):
    """A complaint or report (投诉举报) against a unit and possibly a named staff member."""

    type: Literal["complaint.filed"]
    data: ComplaintFiledData


class ComplaintResolved(_Envelope):
    """The investigation's verdict; the latest `occurred_at` stands (tie: greater id)."""

    type: Literal["complaint.resolved"]
    data: ComplaintResolvedData


class InspectionRecorded(_Envelope):
    """An open (明查), covert (暗访) or automated check, with its findings."""

    type: Literal["inspection.recorded"]
    data: InspectionRecordedData


class CommendationRecorded(_Envelope):
    """A good deed (好人好事) or award."""

    type: Literal["commendation.recorded"]
    data: CommendationRecordedData


Event: TypeAlias = Annotated[
    ComplaintFiled | ComplaintResolved | InspectionRecorded | CommendationRecorded,
    Field(discriminator="type"),
]
EVENT_MODELS: dict[EventType, type[_Envelope]] = {
    EventType.COMPLAINT_FILED: ComplaintFiled,
    EventType.COMPLAINT_RESOLVED: ComplaintResolved,
    EventType.INSPECTION_RECORDED: InspectionRecorded,
    EventType.COMMENDATION_RECORDED: CommendationRecorded,
}

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
EVENT_LIST_ADAPTER: TypeAdapter[list[Event]] = TypeAdapter(list[Event])


def parse_inbound(raw: str | bytes, *, received_at: datetime) -> Event:
    """One event as an upstream system sends it (raises pydantic.ValidationError)."""
    return EVENT_ADAPTER.validate_json(raw, context={"received_at": received_at})


def parse_inbound_list(raw: str | bytes, *, received_at: datetime) -> list[Event]:
    """A JSON array of events; error locations start with the index in the array."""
    return EVENT_LIST_ADAPTER.validate_json(raw, context={"received_at": received_at})


def parse_recorded(raw: str | bytes) -> Event:
    """An event as stored on events.v1, with intake's `recorded_at`."""
    return EVENT_ADAPTER.validate_json(raw, context={"recorded": True})


def stamp(event: Event, *, recorded_at: datetime) -> Event:
    """The event as intake records it."""
    return event.model_copy(update={"recorded_at": recorded_at})


def dump_event(event: Event) -> bytes:
    """Canonical JSON for the wire: absent optionals are left out."""
    return event.model_dump_json(exclude_none=True).encode()


def content_digest(event: Event) -> bytes:
    """What identifies the content of (source, id): everything the sender sent, the
    instant normalised to UTC (the same moment written with another offset is the same
    content), intake's own `recorded_at` left out (a retry is stamped anew)."""
    canonical = event.model_copy(
        update={"occurred_at": event.occurred_at.astimezone(UTC), "recorded_at": None}
    ).model_dump_json(exclude_none=True)
    return hashlib.blake2b(canonical.encode(), digest_size=16).digest()
