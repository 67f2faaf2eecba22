"""Builders for the assessment-domain unit tests: facts with sensible defaults."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TypedDict

from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, EventKey, Finding
from services.assessment.domain.policy import Policy, load_default_policy
from services.assessment.domain.results import Alert, Warning
from shared.catalogue import (
    ALERT_LEVELS,
    AlertRule,
    Category,
    Channel,
    FindingCode,
    Handling,
    Outcome,
    Status,
    WarningRule,
)


@cache
def default_policy() -> Policy:
    return load_default_policy()


def at(text: str) -> datetime:
    """An aware instant from RFC 3339 text (the offset is required)."""
    instant = datetime.fromisoformat(text)
    assert instant.tzinfo is not None, text
    return instant


def event_key(when: str, event_id: str, source: str) -> EventKey:
    """A fact's key: when it occurred (RFC 3339 text), its event id and its source."""
    return EventKey(occurred_at=at(when), event_id=event_id, source=source)


class _Issued(TypedDict):
    issued_at: datetime
    evidence: tuple[str, ...]
    status: Status
    policy_version: str
    scope: str
    revoked_at: datetime | None


def _issued(result_id: str, issued: str, revoked: str | None) -> _Issued:
    """What a test warning and a test alert have alike: issued at `issued`, revoked at
    `revoked` when given, one piece of evidence and a scope of their own."""
    return _Issued(
        issued_at=at(issued),
        evidence=(f"ev-{result_id}",),
        status=Status.ACTIVE if revoked is None else Status.REVOKED,
        policy_version="test",
        scope=f"test:{result_id}",
        revoked_at=at(revoked) if revoked else None,
    )


def filing(
    complaint_id: str = "c1",
    *,
    event_id: str = "f1",
    when: str = "2026-03-02T09:00:00+08:00",
    unit: str = "unit-a",
    staff: str | None = "E1",
    category: Category = Category.RUDE_ATTITUDE,
    handling: Handling = Handling.STUDY,
    channel: Channel = Channel.HOTLINE,
    source: str = "hotline-95598",
) -> ComplaintFiling:
    return ComplaintFiling(
        key=event_key(when, event_id, source),
        complaint_id=complaint_id,
        unit_id=unit,
        staff_id=staff,
        channel=channel,
        category=category,
        handling=handling,
    )


def verdict(
    complaint_id: str = "c1",
    *,
    event_id: str = "v1",
    when: str = "2026-03-03T10:00:00+08:00",
    unit: str = "unit-a",
    staff: str | None = None,
    outcome: Outcome = Outcome.SUBSTANTIATED,
    category: Category | None = None,
    obstructed: bool = False,
    source: str = "hotline-95598",
) -> ComplaintVerdict:
    return ComplaintVerdict(
        key=event_key(when, event_id, source),
        complaint_id=complaint_id,
        unit_id=unit,
        staff_id=staff,
        outcome=outcome,
        category=category,
        obstructed=obstructed,
    )


def finding(
    *,
    event_id: str,
    when: str,
    staff: str | None = "E1",
    unit: str = "unit-a",
    code: FindingCode = FindingCode.LATE_ARRIVAL,
    position: int = 0,
    unit_wide: bool = False,
    source: str = "attendance",
) -> Finding:
    return Finding(
        key=event_key(when, event_id, source),
        position=position,
        inspection_id=f"insp-{event_id}",
        unit_id=unit,
        staff_id=staff,
        code=code,
        unit_wide=unit_wide,
    )


def warning(
    warning_id: str,
    *,
    issued: str,
    revoked: str | None = None,
    unit: str = "unit-a",
    staff: str = "E1",
    rule: WarningRule = WarningRule.RUDE_ATTITUDE,
) -> Warning:
    return Warning(
        id=warning_id,
        staff_id=staff,
        unit_id=unit,
        rule=rule,
        period=issued[:7],
        **_issued(warning_id, issued, revoked),
    )


def collective(
    alert_id: str,
    *,
    issued: str,
    revoked: str | None = None,
    unit: str = "unit-a",
    year: int = 2026,
    rule: AlertRule = AlertRule.UNIT_WIDE_VIOLATION,
) -> Alert:
    return Alert(
        id=alert_id,
        unit_id=unit,
        rule=rule,
        level=ALERT_LEVELS[rule],
        year=year,
        **_issued(alert_id, issued, revoked),
    )
