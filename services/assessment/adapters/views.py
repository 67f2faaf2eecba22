"""Read-model queries in plain SQL: warnings, alerts, overdue complaints, watchlist.

Every function reads one snapshot of the live version (see read_model.py). Lists are
ordered by (issued_at, id) — or (deadline, complaint_id) — and paged by keyset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.assessment.adapters.read_model import Snapshot

WARNING_FIELDS = (
    "id, staff_id, unit_id, rule, period, issued_at, revoked_at, evidence, status, policy_version"
)
ALERT_FIELDS = (
    "id, unit_id, rule, level, year, issued_at, revoked_at, evidence, status, policy_version"
)


@dataclass(frozen=True, slots=True)
class ListFilter:
    unit_id: str | None = None
    staff_id: str | None = None
    rule: str | None = None
    status: str | None = None  # None = any
    since: datetime | None = None  # issued_at >= since
    until: datetime | None = None  # issued_at < until
    after: tuple[datetime, str] | None = None  # keyset cursor: (issued_at, id)
    limit: int = 100


def _row(record: Any) -> dict[str, Any]:
    row = dict(record)
    if "evidence" in row:
        row["evidence"] = list(row["evidence"])
    return row


async def staff_warnings(
    snap: Snapshot, *, staff_id: str, year: int | None, status: str | None
) -> list[dict[str, Any]]:
    rows = await snap.conn.fetch(
        f"""SELECT {WARNING_FIELDS} FROM {snap.schema}.warnings
            WHERE staff_id = $1 AND ($2::int IS NULL OR year = $2)
              AND ($3::text IS NULL OR status = $3)
            ORDER BY issued_at, id""",
        staff_id,
        year,
        status,
    )
    return [_row(r) for r in rows]


async def unit_alerts(
    snap: Snapshot, *, unit_id: str, year: int | None, status: str | None
) -> list[dict[str, Any]]:
    rows = await snap.conn.fetch(
        f"""SELECT {ALERT_FIELDS} FROM {snap.schema}.alerts
            WHERE unit_id = $1 AND ($2::int IS NULL OR year = $2)
              AND ($3::text IS NULL OR status = $3)
            ORDER BY issued_at, id""",
        unit_id,
        year,
        status,
    )
    return [_row(r) for r in rows]


async def list_warnings(snap: Snapshot, flt: ListFilter) -> list[dict[str, Any]]:
    return await _list(snap, flt, table="warnings", fields=WARNING_FIELDS, staff="staff_id = $2")


async def list_alerts(snap: Snapshot, flt: ListFilter) -> list[dict[str, Any]]:
    """Alerts are unit-level; `staff_id` selects those built on that person's warnings."""
    staff = f"evidence && ARRAY(SELECT id FROM {snap.schema}.warnings WHERE staff_id = $2)"
    return await _list(snap, flt, table="alerts", fields=ALERT_FIELDS, staff=staff)


async def _list(
    snap: Snapshot, flt: ListFilter, *, table: str, fields: str, staff: str
) -> list[dict[str, Any]]:
    """One keyset page of `table`, ordered by (issued_at, id); `staff` is the table's
    condition on the staff filter ($2)."""
    after_at, after_id = flt.after if flt.after else (None, None)
    rows = await snap.conn.fetch(
        f"""SELECT {fields} FROM {snap.schema}.{table}
            WHERE ($1::text IS NULL OR unit_id = $1) AND ($2::text IS NULL OR {staff})
              AND ($3::text IS NULL OR rule = $3) AND ($4::text IS NULL OR status = $4)
              AND ($5::timestamptz IS NULL OR issued_at >= $5)
              AND ($6::timestamptz IS NULL OR issued_at < $6)
              AND ($7::timestamptz IS NULL OR (issued_at, id) > ($7, $8::text))
            ORDER BY issued_at, id LIMIT $9""",
        flt.unit_id,
        flt.staff_id,
        flt.rule,
        flt.status,
        flt.since,
        flt.until,
        after_at,
        after_id,
        flt.limit,
    )
    return [_row(r) for r in rows]


async def overdue_complaints(
    snap: Snapshot,
    *,
    unit_id: str | None,
    as_of: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Complaints past their deadline with no verdict as of `as_of` (no personal data)."""
    after_at, after_id = after if after else (None, None)
    rows = await snap.conn.fetch(
        f"""SELECT complaint_id, unit_id, staff_id, filed_at, channel, category, handling,
                   deadline, resolved_at
            FROM {snap.schema}.complaints
            WHERE filed_at <= $1 AND deadline <= $1
              AND (resolved_at IS NULL OR resolved_at > $1)
              AND ($2::text IS NULL OR unit_id = $2)
              AND ($3::timestamptz IS NULL OR (deadline, complaint_id) > ($3, $4::text))
            ORDER BY deadline, complaint_id LIMIT $5""",
        as_of,
        unit_id,
        after_at,
        after_id,
        limit,
    )
    return [dict(r) for r in rows]


async def staff_at_attendance_limit(
    snap: Snapshot, *, month: str, as_of: datetime, unit_id: str | None
) -> list[dict[str, Any]]:
    """Staff with exactly the monthly limit of attendance findings (one more warns)."""
    policy = snap.policy.attendance
    rows = await snap.conn.fetch(
        f"""SELECT staff_id, count(*) AS attendance_findings,
                   (array_agg(unit_id ORDER BY occurred_at DESC, event_id DESC))[1] AS unit_id
            FROM {snap.schema}.findings
            WHERE month = $1 AND staff_id IS NOT NULL AND code = ANY($2::text[])
              AND occurred_at <= $3
            GROUP BY staff_id
            HAVING count(*) = $4 AND ($5::text IS NULL OR bool_or(unit_id = $5))
            ORDER BY staff_id""",
        month,
        sorted(code.value for code in policy.codes),
        as_of,
        policy.monthly_limit,
        unit_id,
    )
    return [dict(r) for r in rows]


async def active_warnings_by_unit(
    snap: Snapshot, *, year: int, as_of: datetime, unit_id: str | None
) -> list[dict[str, Any]]:
    """Warnings in force at `as_of`: issued by then and not revoked by then."""
    rows = await snap.conn.fetch(
        f"""SELECT unit_id, count(*) AS active_warnings
            FROM {snap.schema}.warnings
            WHERE year = $1 AND issued_at <= $2 AND (revoked_at IS NULL OR revoked_at > $2)
              AND ($3::text IS NULL OR unit_id = $3)
            GROUP BY unit_id ORDER BY unit_id""",
        year,
        as_of,
        unit_id,
    )
    return [dict(r) for r in rows]


async def positions(snap: Snapshot, topic: str) -> dict[int, int]:
    rows = await snap.conn.fetch(
        f'SELECT partition, "offset" FROM {snap.schema}.positions WHERE topic = $1', topic
    )
    return {r["partition"]: r["offset"] for r in rows}
