"""Response models of the read API (CONTRACT.md shapes; they also feed /docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.assessment.service_layer.published import AlertOut, WarningOut


class StaffWarnings(BaseModel):
    staff_id: str
    year: int | None
    status: str
    items: list[WarningOut]


class UnitAlerts(BaseModel):
    unit_id: str
    year: int | None
    status: str
    items: list[AlertOut]


class WarningPage(BaseModel):
    items: list[WarningOut]
    next_cursor: str | None


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None


class OverdueComplaint(BaseModel):
    complaint_id: str
    unit_id: str
    staff_id: str | None
    filed_at: datetime
    channel: str
    category: str
    handling: str
    deadline: datetime = Field(description="Resolution was due before this instant.")
    resolved_at: datetime | None = Field(
        default=None, description="Set when resolved after as_of (it was still open then)."
    )


class OverduePage(BaseModel):
    as_of: datetime
    items: list[OverdueComplaint]
    next_cursor: str | None


class StaffWatch(BaseModel):
    staff_id: str
    unit_id: str
    month: str
    attendance_findings: int
    warning_at: int = Field(description="The finding that would issue an attendance warning.")


class UnitWatch(BaseModel):
    unit_id: str
    year: int
    active_warnings: int
    collective_warning_at: int = Field(description="The warning count of the next one.")


class Watchlist(BaseModel):
    as_of: datetime
    staff: list[StaffWatch]
    units: list[UnitWatch]


class PartitionStatus(BaseModel):
    partition: int
    position: int | None = Field(description="Last offset folded (null: nothing yet).")
    end_offset: int | None = Field(description="Offset the next record will get.")
    lag: int | None


class VersionOut(BaseModel):
    version: int
    state: str
    policy_version: str
    policy_fingerprint: str
    created_at: datetime
    live_since: datetime | None


class StatusOut(BaseModel):
    projection_version: int
    policy_version: str
    policy_fingerprint: str
    live_since: datetime | None
    topic: str
    partitions: list[PartitionStatus]
    lag: int | None
    versions: list[VersionOut]
    fold: dict[str, Any] = Field(
        description="Fold health: healthy, failing_for_seconds, seconds_since_last_fold, "
        "last_error, stall_threshold_seconds."
    )


class DeadLetterOut(BaseModel):
    id: int
    origin: str = Field(description="topic/partition/offset of the parked record")
    reason: str
    error: str = Field(description="Details, JSON text")
    source: str | None
    event_id: str | None
    type: str | None
    parked_at: datetime
    retried_at: datetime | None
    retry_outcome: str | None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next_cursor: str | None


Figures = dict[str, Any]
