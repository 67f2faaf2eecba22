"""What the rules produce: warnings, alerts and each complaint's state."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct

from shared.catalogue import (
    AlertLevel,
    AlertRule,
    Category,
    Channel,
    Handling,
    Outcome,
    Status,
    WarningRule,
)


class Warning(Struct, frozen=True, gc=False):
    """An individual efficiency warning (效能告诫); shadows the builtin on purpose."""

    id: str
    staff_id: str
    unit_id: str
    rule: WarningRule
    period: str  # YYYY-MM of issued_at, in the policy time zone
    issued_at: datetime
    evidence: tuple[str, ...]  # event ids
    status: Status
    policy_version: str
    scope: str  # what the stored row replaces, see ids of each rule
    revoked_at: datetime | None = None


class Alert(Struct, frozen=True, gc=False):
    """A unit alert: a collective warning (集体效能告诫) or leadership accountability."""

    id: str
    unit_id: str
    rule: AlertRule
    level: AlertLevel
    year: int
    issued_at: datetime
    evidence: tuple[str, ...]  # event ids, or warning/alert ids for unit-year alerts
    status: Status
    policy_version: str
    scope: str
    revoked_at: datetime | None = None


class ComplaintState(Struct, frozen=True, gc=False):
    """One complaint as the figures see it; it counts for the unit it was filed against."""

    complaint_id: str
    unit_id: str
    staff_id: str | None
    filing_event_id: str
    filed_at: datetime
    filed_month: str
    channel: Channel
    category: Category
    handling: Handling
    final_category: Category
    deadline: datetime  # exclusive: resolved at or after it is late
    deadline_month: str  # month of the last allowed day
    resolved_at: datetime | None  # first verdict
    resolved_month: str | None
    resolved_late: bool
    outcome: Outcome | None  # standing verdict
    outcome_at: datetime | None
    outcome_month: str | None
    verdict_event_id: str | None
    responsible_staff_id: str | None
    obstructed: bool


class ComplaintOutcome(Struct, frozen=True, gc=False):
    state: ComplaintState | None
    warnings: tuple[Warning, ...]
    alerts: tuple[Alert, ...]
