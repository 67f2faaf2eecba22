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
    """Complaints past their deadline with no verdict as of `as_of` (no personal data).

    Such a complaint was overdue at some time (`resolved_at IS NULL OR resolved_at >
    deadline`, implied by the rest): stated, so that the partial indexes of migration 005
    are read in the list's order, and only the filters given are in the statement (one
    statement per combination, each with its own plan)."""
    conditions = [
        "filed_at <= $1 AND deadline <= $1",
        "(resolved_at IS NULL OR resolved_at > $1)",
        "(resolved_at IS NULL OR resolved_at > deadline)",
    ]
    args: list[Any] = [as_of]
    if unit_id is not None:
        args.append(unit_id)
        conditions.append(f"unit_id = ${len(args)}")
    if after is not None:
        args += after
        conditions.append(f"(deadline, complaint_id) > (${len(args) - 1}, ${len(args)}::text)")
    args.append(limit)
    rows = await snap.conn.fetch(
        f"""SELECT complaint_id, unit_id, staff_id, filed_at, channel, category, handling,
                   deadline, resolved_at
            FROM {snap.schema}.complaints
            WHERE {" AND ".join(conditions)}
            ORDER BY deadline, complaint_id LIMIT ${len(args)}""",
        *args,
    )
    return [dict(r) for r in rows]


async def staff_at_attendance_limit(
    snap: Snapshot, *, month: str, as_of: datetime, unit_id: str | None
) -> list[dict[str, Any]]:
    """Staff with exactly the monthly limit of attendance findings (one more warns), with
    the unit of their latest one. Counted first (from an index alone); the latest finding
    is then looked up for those few staff only."""
    policy = snap.policy.attendance
    s = snap.schema
    findings = "month = $1 AND code = ANY($2::text[]) AND occurred_at <= $3"
    in_unit = "AND bool_or(unit_id = $5)" if unit_id is not None else ""
    rows = await snap.conn.fetch(
        f"""SELECT counted.staff_id, counted.attendance_findings, latest.unit_id
            FROM (SELECT staff_id, count(*) AS attendance_findings
                    FROM {s}.findings
                   WHERE {findings} AND staff_id IS NOT NULL
                   GROUP BY staff_id
                  HAVING count(*) = $4 {in_unit}) AS counted
            CROSS JOIN LATERAL (
                  SELECT unit_id FROM {s}.findings
                   WHERE {findings} AND staff_id = counted.staff_id
                   ORDER BY occurred_at DESC, event_id DESC LIMIT 1) AS latest
            ORDER BY counted.staff_id""",
        month,
        sorted(code.value for code in policy.codes),
        as_of,
        policy.monthly_limit,
        *([unit_id] if unit_id is not None else []),
    )
    return [dict(r) for r in rows]


async def active_warnings_by_unit(
    snap: Snapshot, *, year: int, as_of: datetime, unit_id: str | None
) -> list[dict[str, Any]]:
    """Warnings in force at `as_of`: issued by then and not revoked by then."""
    in_unit = "AND unit_id = $3" if unit_id is not None else ""
    rows = await snap.conn.fetch(
        f"""SELECT unit_id, count(*) AS active_warnings
            FROM {snap.schema}.warnings
            WHERE year = $1 AND issued_at <= $2 AND (revoked_at IS NULL OR revoked_at > $2)
              {in_unit}
            GROUP BY unit_id ORDER BY unit_id""",
        year,
        as_of,
        *([unit_id] if unit_id is not None else []),
    )
    return [dict(r) for r in rows]


async def positions(snap: Snapshot, topic: str) -> dict[int, int]:
    rows = await snap.conn.fetch(
        f'SELECT partition, "offset" FROM {snap.schema}.positions WHERE topic = $1', topic
    )
    return {r["partition"]: r["offset"] for r in rows}
