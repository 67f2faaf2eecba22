"""The public shapes of a warning and an alert: the query API answers with them and
the change feed (assessment.changes.v1) carries them, so both say the same thing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, Field

from services.assessment.domain.results import Alert, Warning
from shared.catalogue import AlertLevel, AlertRule, Status, WarningRule


class WarningOut(BaseModel):
    id: str = Field(examples=["W-4f1c2a9b0e7d6c5b4a392817"])
    staff_id: str
    unit_id: str
    rule: WarningRule
    period: str = Field(description="YYYY-MM the warning was issued in.")
    issued_at: datetime
    evidence: list[str] = Field(description="Ids of the events it rests on.")
    status: Status
    policy_version: str
    revoked_at: datetime | None = None


class AlertOut(BaseModel):
    id: str
    unit_id: str
    rule: AlertRule
    level: AlertLevel
    year: int
    issued_at: datetime
    evidence: list[str] = Field(
        description="Event ids (obstruction, unit_wide_violation), warning ids "
        "(accumulated_warnings) or alert ids (leadership_accountability)."
    )
    status: Status
    policy_version: str
    revoked_at: datetime | None = None


_PROJECTION_VERSION = Field(
    description="The projection version (GET /v1/status) whose change this is: a "
    "change published at a version switch names the new version.",
    examples=[3],
)


class WarningChange(WarningOut):
    """assessment.warning.{issued,revoked,reruled}: the warning as GET /v1/warnings
    shows it after the change (for one the projections no longer hold: its last
    content, status revoked), with the projection version."""

    projection_version: int = _PROJECTION_VERSION


class AlertChange(AlertOut):
    """assessment.alert.{issued,revoked,reruled}: the alert as GET /v1/alerts shows it
    after the change (for one the projections no longer hold: its last content, status
    revoked), with the projection version."""

    projection_version: int = _PROJECTION_VERSION


def _utc(moment: datetime | None) -> datetime | None:
    # The database hands the API instants in UTC; the feed says them alike.
    return None if moment is None else moment.astimezone(UTC)


def warning_fields(w: Warning) -> dict[str, Any]:
    return {
        "id": w.id,
        "staff_id": w.staff_id,
        "unit_id": w.unit_id,
        "rule": w.rule,
        "period": w.period,
        "issued_at": _utc(w.issued_at),
        "evidence": list(w.evidence),
        "status": w.status,
        "policy_version": w.policy_version,
        "revoked_at": _utc(w.revoked_at),
    }


def alert_fields(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id,
        "unit_id": a.unit_id,
        "rule": a.rule,
        "level": a.level,
        "year": a.year,
        "issued_at": _utc(a.issued_at),
        "evidence": list(a.evidence),
        "status": a.status,
        "policy_version": a.policy_version,
        "revoked_at": _utc(a.revoked_at),
    }


def change_payload(item: Warning | Alert, *, projection_version: int) -> bytes:
    """The feed record's value: JSON of the item as the query API shows it, the bytes
    that `WarningChange`/`AlertChange.model_dump_json()` write (a test compares them),
    written by orjson: the models validated and serialized every change again, 26 µs
    each (a switch at 1M events publishes 65k of them)."""
    fields = warning_fields(item) if isinstance(item, Warning) else alert_fields(item)
    fields["projection_version"] = projection_version
    return orjson.dumps(fields, option=orjson.OPT_UTC_Z)
