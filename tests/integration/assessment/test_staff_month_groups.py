"""The attendance groups phase 2 reads (`bulk_store.staff_month_groups`): the database
keeps back the staff-months with no more findings than the limit (they raise nothing),
and sends every other one whole, its findings counted once each, whatever was delivered
twice, whichever unit or inspection they came in."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import orjson
import pytest

from services.assessment.adapters import bulk_store, versions
from services.assessment.adapters.schema import migrate_control, migrate_projection
from services.assessment.adapters.writer import ProjectionWriter
from services.assessment.domain.inspections import evaluate_attendance
from services.assessment.domain.policy import load_default_policy
from services.assessment.domain.records import Record
from services.assessment.service_layer.folding import fold

pytestmark = pytest.mark.integration
POLICY = load_default_policy()
LIMIT = POLICY.attendance.monthly_limit
LATE = "late_arrival"


def inspection(n: int, when: str, findings: list[dict[str, Any]], unit: str = "u1") -> bytes:
    event = {
        "id": f"insp-{n}",
        "type": "inspection.recorded",
        "source": "clock",
        "occurred_at": when,
        "recorded_at": "2026-05-01T00:00:00Z",
        "unit_id": unit,
        "data": {"inspection_id": f"I-{n}", "mode": "open", "inspector": "x", "findings": findings},
    }
    return orjson.dumps(event)


def history() -> list[bytes]:
    """Per staff member, late arrivals in March 2026 (Asia/Shanghai):
    at-limit: exactly the limit; over: one more, one of them delivered twice and two in
    one inspection; split: the limit in March and one in April (neither month over);
    a code that is not attendance, many times, for `other`."""
    values, n = [], 0

    def add(when: str, *staff: str, code: str = LATE, unit: str = "u1") -> None:
        nonlocal n
        n += 1
        findings = [{"code": code, "staff_id": person} for person in staff]
        values.append(inspection(n, when, findings, unit))

    for day in range(LIMIT):
        add(f"2026-03-{day + 2:02d}T09:00:00+08:00", "at-limit")
        add(f"2026-03-{day + 2:02d}T09:30:00+08:00", "split")
    add("2026-04-01T00:30:00+08:00", "split")  # 2026-03-31 in UTC: April where it counts
    for day in range(LIMIT - 1):
        add(f"2026-03-{day + 10:02d}T09:00:00+08:00", "over", unit=f"u{day}")
    add("2026-03-20T09:00:00+08:00", "over", "over")  # two findings, one inspection
    values.append(values[-1])  # delivered again
    for day in range(LIMIT + 3):
        add(f"2026-03-{day + 2:02d}T10:00:00+08:00", "other", code="smoking")
    return values


async def groups(url: str, more_than: int) -> dict[tuple[str, str], list[Any]]:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            await migrate_control(conn)
            version = await versions.create_version(conn, policy=POLICY, state="building")
            await migrate_projection(conn, version.schema_name)
        records = [Record("events.v1", 0, offset, None, v) for offset, v in enumerate(history())]
        async with ProjectionWriter(pool).version(version) as tx:
            await fold(tx, records)
        async with pool.acquire() as conn, conn.transaction():
            found = bulk_store.staff_month_groups(
                conn, version.schema_name, POLICY.attendance.codes, more_than=more_than
            )
            return {(staff, month): findings async for staff, month, findings in found}
    finally:
        await pool.close()


def test_only_staff_months_over_the_limit_are_read(scratch_database_url: str) -> None:
    every = asyncio.run(groups(scratch_database_url, more_than=0))
    over = asyncio.run(groups(scratch_database_url, more_than=LIMIT))

    assert {key: len(found) for key, found in every.items()} == {
        ("at-limit", "2026-03"): LIMIT,
        ("over", "2026-03"): LIMIT + 1,
        ("split", "2026-03"): LIMIT,
        ("split", "2026-04"): 1,
    }
    assert over == {("over", "2026-03"): every[("over", "2026-03")]}
    # What was kept back raises nothing; what was sent raises the warning.
    for (staff, month), found in every.items():
        warned = evaluate_attendance(staff, month, found, POLICY) is not None
        assert warned == ((staff, month) in over)
