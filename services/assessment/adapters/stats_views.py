"""Monthly counts per unit and per staff member, in one round trip each.

Returns raw counts keyed by (metric, month, detail); the service layer turns them
into the contract's figures (zeros filled in, 同比/环比 computed by the domain).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import asyncpg

from services.assessment.adapters.read_model import Snapshot
from services.assessment.service_layer.figures import Counts


async def unit_month_counts(
    snap: Snapshot, *, unit_id: str, first: str, last: str, now: datetime
) -> Counts:
    s = snap.schema
    rows = await snap.conn.fetch(
        f"""
        SELECT 'complaints_filed' AS metric, filed_month AS month,
               'category:' || category AS detail, count(*) AS n
          FROM {s}.complaints WHERE unit_id = $1 AND filed_month BETWEEN $2 AND $3 GROUP BY 2, 3
        UNION ALL
        SELECT 'complaints_filed', filed_month, 'channel:' || channel, count(*)
          FROM {s}.complaints WHERE unit_id = $1 AND filed_month BETWEEN $2 AND $3 GROUP BY 2, 3
        UNION ALL
        SELECT 'complaints_' || outcome, outcome_month, '', count(*)
          FROM {s}.complaints WHERE unit_id = $1 AND outcome_month BETWEEN $2 AND $3
         GROUP BY 1, 2
        UNION ALL
        SELECT 'complaints_overdue', deadline_month, '', count(*)
          FROM {s}.complaints WHERE unit_id = $1 AND resolved_at IS NULL AND deadline <= $4
           AND deadline_month BETWEEN $2 AND $3 GROUP BY 2
        UNION ALL
        SELECT 'complaints_resolved_late', resolved_month, '', count(*)
          FROM {s}.complaints WHERE unit_id = $1 AND resolved_late
           AND resolved_month BETWEEN $2 AND $3 GROUP BY 2
        UNION ALL
        SELECT 'inspections', month, '', count(*)
          FROM {s}.inspections WHERE unit_id = $1 AND month BETWEEN $2 AND $3 GROUP BY 2
        UNION ALL
        SELECT 'clean_inspections', month, '', count(*)
          FROM {s}.inspections WHERE unit_id = $1 AND finding_count = 0
           AND month BETWEEN $2 AND $3 GROUP BY 2
        UNION ALL
        SELECT 'findings', month, code, count(*)
          FROM {s}.findings WHERE unit_id = $1 AND month BETWEEN $2 AND $3 GROUP BY 2, 3
        UNION ALL
        SELECT 'commendations', month, kind, count(*)
          FROM {s}.commendations WHERE unit_id = $1 AND month BETWEEN $2 AND $3 GROUP BY 2, 3
        UNION ALL
        SELECT 'warnings', period, rule, count(*)
          FROM {s}.warnings WHERE unit_id = $1 AND status = 'active'
           AND period BETWEEN $2 AND $3 GROUP BY 2, 3
        UNION ALL
        SELECT 'collective_warnings', month, rule, count(*)
          FROM {s}.alerts WHERE unit_id = $1 AND status = 'active'
           AND level = 'collective_warning' AND month BETWEEN $2 AND $3 GROUP BY 2, 3
        """,
        unit_id,
        first,
        last,
        now,
    )
    return _nest(rows)


async def staff_month_counts(snap: Snapshot, *, staff_id: str, year: int) -> Counts:
    s = snap.schema
    first, last = f"{year:04d}-01", f"{year:04d}-12"
    rows = await snap.conn.fetch(
        f"""
        SELECT 'warnings' AS metric, period AS month, rule AS detail, count(*) AS n
          FROM {s}.warnings WHERE staff_id = $1 AND status = 'active' AND year = $4
         GROUP BY 2, 3
        UNION ALL
        SELECT 'substantiated_complaints', outcome_month, '', count(*)
          FROM {s}.complaints WHERE responsible_staff_id = $1 AND outcome = 'substantiated'
           AND outcome_month BETWEEN $2 AND $3 GROUP BY 2
        UNION ALL
        SELECT 'findings', month, code, count(*)
          FROM {s}.findings WHERE staff_id = $1 AND month BETWEEN $2 AND $3 GROUP BY 2, 3
        UNION ALL
        SELECT 'commendations', month, kind, count(*)
          FROM {s}.commendations WHERE staff_id = $1 AND month BETWEEN $2 AND $3 GROUP BY 2, 3
        """,
        staff_id,
        first,
        last,
        year,
    )
    return _nest(rows)


def _nest(rows: list[asyncpg.Record]) -> Counts:
    counts: Counts = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        metric: str = row["metric"]
        month: str = row["month"]
        detail: str = row["detail"]
        per_month = counts[metric][month]
        per_month[detail] = per_month.get(detail, 0) + int(row["n"])
    return counts
