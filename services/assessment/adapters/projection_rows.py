"""Rows of the projection tables to and from the domain's values: the insert
statements' column order, the stored alert digest, and what the reads give back."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import asyncpg

from services.assessment.adapters.packed import Kind
from services.assessment.domain.calendar import month_of
from services.assessment.domain.event_facts import FactBatch
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict, EventKey, Finding
from services.assessment.domain.identity import Identity
from services.assessment.domain.results import Alert, ComplaintState, Warning
from shared.catalogue import (
    AlertLevel,
    AlertRule,
    Category,
    Channel,
    FindingCode,
    Handling,
    Outcome,
    Status,
    WarningRule,
)

_E = TypeVar("_E", bound=Enum)


# The columns of the statements whose parameters are packed (adapters/packed.py).
FACT_KINDS: dict[str, tuple[Kind, ...]] = {
    "complaint_filings": ("text", "text", "timestamptz", *("text",) * 6),
    "complaint_verdicts": ("text", "text", "timestamptz", *("text",) * 5, "bool"),
    "inspections": ("text", "text", "timestamptz", "text", "text", "text", "int", "text"),
    "findings": ("text", "text", "timestamptz", "int", "text", "text", "text", "bool", "text"),
    "commendations": ("text", "text", "timestamptz", *("text",) * 5),
}
IDENTITY_KINDS: tuple[Kind, ...] = ("text", "text", "bytea", "timestamptz", "int", "bigint")
COMPLAINT_KINDS: tuple[Kind, ...] = (
    "text", "text", "text", "text", "timestamptz", "text", "text", "text", "text", "text",
    "timestamptz", "text", "timestamptz", "text", "bool", "text", "timestamptz", "text",
    "text", "text", "bool",
)  # fmt: skip
EVIDENCE = 9  # column of the evidence ids in warning_row() and alert_row()


def as_columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows -> one list per column, the shape `unnest` takes."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def identity_from_row(r: asyncpg.Record) -> Identity:
    return Identity(
        r["source"], r["event_id"], r["digest"], r["recorded_at"], r["partition"], r["offset"]
    )


def _key(key: EventKey) -> tuple[Any, ...]:
    return (key.source, key.event_id, key.occurred_at)


def fact_rows(facts: FactBatch, tz: ZoneInfo) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each fact table, in the column order of their insert statements."""
    return {
        "complaint_filings": [
            (*_key(f.key), f.complaint_id, f.unit_id, f.staff_id, f.channel.value,
             f.category.value, f.handling.value)
            for f in facts.filings
        ],
        "complaint_verdicts": [
            (*_key(v.key), v.complaint_id, v.unit_id, v.staff_id, v.outcome.value,
             v.category.value if v.category else None, v.obstructed)
            for v in facts.verdicts
        ],
        "inspections": [
            (*_key(i.key), i.inspection_id, i.unit_id, i.mode.value, i.finding_count,
             month_of(i.key.occurred_at, tz))
            for i in facts.inspections
        ],
        "findings": [
            (*_key(f.key), f.position, f.unit_id, f.staff_id, f.code.value, f.unit_wide,
             month_of(f.key.occurred_at, tz))
            for f in facts.findings
        ],
        "commendations": [
            (*_key(c.key), c.commendation_id, c.unit_id, c.staff_id, c.kind.value,
             month_of(c.key.occurred_at, tz))
            for c in facts.commendations
        ],
    }  # fmt: skip


class _Members(dict[Any, _E]):
    """An enum's members by value: `enum(value)` as a dict lookup (calling the enum costs
    about a microsecond, on every fact of a rebuild); a value it lacks still raises the
    enum's ValueError."""

    def __init__(self, enum: type[_E]) -> None:
        super().__init__((member.value, member) for member in enum)
        self._enum = enum

    def __missing__(self, value: Any) -> _E:
        return self._enum(value)


CHANNELS = _Members(Channel)
CATEGORIES = _Members(Category)
HANDLINGS = _Members(Handling)
OUTCOMES = _Members(Outcome)
FINDING_CODES = _Members(FindingCode)
STATUSES = _Members(Status)
ALERT_RULES = _Members(AlertRule)


def filing_from_row(r: Any) -> ComplaintFiling:
    return ComplaintFiling(
        key=event_key(r),
        complaint_id=r["complaint_id"],
        unit_id=r["unit_id"],
        staff_id=r["staff_id"],
        channel=CHANNELS[r["channel"]],
        category=CATEGORIES[r["category"]],
        handling=HANDLINGS[r["handling"]],
    )


def verdict_from_row(r: Any) -> ComplaintVerdict:
    return ComplaintVerdict(
        key=event_key(r),
        complaint_id=r["complaint_id"],
        unit_id=r["unit_id"],
        staff_id=r["staff_id"],
        outcome=OUTCOMES[r["outcome"]],
        category=CATEGORIES[r["category"]] if r["category"] else None,
        obstructed=r["obstructed"],
    )


def finding_from_row(r: Any) -> Finding:
    return Finding(
        key=event_key(r),
        position=r["position"],
        inspection_id=r["inspection_id"],
        unit_id=r["unit_id"],
        staff_id=r["staff_id"],
        code=FINDING_CODES[r["code"]],
        unit_wide=r["unit_wide"],
    )


def event_key(row: asyncpg.Record) -> EventKey:
    # Positional: keyword arguments cost as much again, once per fact read.
    return EventKey(row["occurred_at"], row["event_id"], row["source"])


def complaint_row(state: ComplaintState) -> tuple[Any, ...]:
    return (
        state.complaint_id,
        state.unit_id,
        state.staff_id,
        state.filing_event_id,
        state.filed_at,
        state.filed_month,
        state.channel.value,
        state.category.value,
        state.handling.value,
        state.final_category.value,
        state.deadline,
        state.deadline_month,
        state.resolved_at,
        state.resolved_month,
        state.resolved_late,
        state.outcome.value if state.outcome else None,
        state.outcome_at,
        state.outcome_month,
        state.verdict_event_id,
        state.responsible_staff_id,
        state.obstructed,
    )


def warning_row(w: Warning) -> tuple[Any, ...]:
    return (
        w.id,
        w.scope,
        w.staff_id,
        w.unit_id,
        w.rule.value,
        w.period,
        int(w.period[:4]),
        w.issued_at,
        w.revoked_at,
        list(w.evidence),
        w.status.value,
        w.policy_version,
    )


def alert_row(a: Alert, tz: ZoneInfo) -> tuple[Any, ...]:
    """The stored row; its last column is a digest of the others."""
    row = (
        a.id,
        a.scope,
        a.unit_id,
        a.rule.value,
        a.level.value,
        a.year,
        month_of(a.issued_at, tz),
        a.issued_at,
        a.revoked_at,
        list(a.evidence),
        a.status.value,
        a.policy_version,
    )
    # Instants as timestamps: the same alert digests alike whatever its times' zone.
    canonical = tuple(v.timestamp() if isinstance(v, datetime) else v for v in row)
    return (*row, hashlib.blake2b(repr(canonical).encode(), digest_size=16).digest())


@dataclass(frozen=True, slots=True)
class TimedRow:
    """A stored warning as the unit-year timeline reads it."""

    id: str
    unit_id: str
    issued_at: datetime
    revoked_at: datetime | None
    status: Status


@dataclass(frozen=True, slots=True)
class CollectiveRow:
    """A stored event-raised collective warning as the unit-year timeline reads it."""

    id: str
    unit_id: str
    issued_at: datetime
    revoked_at: datetime | None
    status: Status
    rule: AlertRule
    year: int


def timed_from_row(r: Any) -> TimedRow:
    return TimedRow(r["id"], r["unit_id"], r["issued_at"], r["revoked_at"], STATUSES[r["status"]])


def collective_from_row(r: Any) -> CollectiveRow:
    return CollectiveRow(
        r["id"],
        r["unit_id"],
        r["issued_at"],
        r["revoked_at"],
        STATUSES[r["status"]],
        ALERT_RULES[r["rule"]],
        r["year"],
    )


def warning_from_row(r: asyncpg.Record) -> Warning:
    return Warning(
        id=r["id"],
        staff_id=r["staff_id"],
        unit_id=r["unit_id"],
        rule=WarningRule(r["rule"]),
        period=r["period"],
        issued_at=r["issued_at"],
        evidence=tuple(r["evidence"]),
        status=Status(r["status"]),
        policy_version=r["policy_version"],
        scope=r["scope"],
        revoked_at=r["revoked_at"],
    )


def alert_from_row(r: asyncpg.Record) -> Alert:
    return Alert(
        id=r["id"],
        unit_id=r["unit_id"],
        rule=AlertRule(r["rule"]),
        level=AlertLevel(r["level"]),
        year=r["year"],
        issued_at=r["issued_at"],
        evidence=tuple(r["evidence"]),
        status=Status(r["status"]),
        policy_version=r["policy_version"],
        scope=r["scope"],
        revoked_at=r["revoked_at"],
    )
