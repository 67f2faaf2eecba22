"""What each dashboard page shows, read through the query API's own route functions and
views (so a page and the JSON API cannot disagree), plus the ranking and the roll-up of
an organisation's units, which the JSON API does not offer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.assessment.adapters import ranking_views, stats_views
from services.assessment.domain.calendar import month_of, year_of
from services.assessment.domain.figures import pct_change
from services.assessment.domain.months import shift_month
from services.assessment.entrypoints.http import params, routes
from services.assessment.entrypoints.http.routes import ListQuery, QueryDeps
from services.assessment.service_layer.figures import Counts, base_range, unit_figures

Json = dict[str, Any]
MAX_LIST = 500  # the API's page limit: one page per list on the dashboard
OVERDUE_SHOWN = 100  # the API's default page: beyond it, a manager narrows by unit


@dataclass(frozen=True, slots=True)
class Period:
    """A month (YYYY-MM) or a year (YYYY) as a range of months."""

    text: str
    first: str
    last: str


def period(text: str | None, *, today: datetime, tz: ZoneInfo) -> Period:
    value = (text or str(year_of(today, tz))).strip()
    if len(value) == 4 and value.isdigit():
        return Period(value, f"{value}-01", f"{value}-12")
    month = params.month_param("period", value)
    return Period(month, month, month)


def instant(text: str | None, *, tz: ZoneInfo, now: datetime) -> datetime:
    """An `as_of`: RFC 3339, or a date meaning the end of that day in the policy's zone."""
    if not text:
        return now
    if len(text) == 10:
        bound = params.bound("as_of", text, tz, upper=True)
        assert bound is not None
        return bound - timedelta(microseconds=1)
    moment = params.instant_param("as_of", text)
    assert moment is not None
    return moment


async def ranking(d: QueryDeps, chosen: Period) -> list[Json]:
    """Every unit of the period, ranked (1 = most accountability)."""
    async with d.read_model.snapshot() as snap:
        rows = await ranking_views.unit_ranking(snap, first=chosen.first, last=chosen.last)
    return [{"rank": n, **row} for n, row in enumerate(rows, start=1)]


def merge_counts(many: list[Counts]) -> Counts:
    """Counts of several units added up (every figure is a count, so they add)."""
    total: Counts = defaultdict(lambda: defaultdict(dict))
    for counts in many:
        for metric, months in counts.items():
            for month, details in months.items():
                into = total[metric][month]
                for detail, n in details.items():
                    into[detail] = into.get(detail, 0) + n
    return total


async def trend(d: QueryDeps, unit_id: str, first: str | None, last: str | None) -> Json:
    """A unit's monthly figures (exactly /v1/units/{unit}/stats), with the same months a
    year before. An id that has no complaints of its own but units beneath it (`taxi-co`
    for `taxi-co/fleet-1`…) is the roll-up of those units."""
    now = d.clock()
    async with d.read_model.snapshot() as snap:
        today = month_of(now, snap.policy.tz)
        first, last = params.stats_range(first, last, today_month=today)
        low, high = base_range(first, last)
        units = [unit_id]
        if not await ranking_views.has_complaints(snap, unit_id):
            units = await ranking_views.units_under(snap, unit_id) or units
        counts = [
            await stats_views.unit_month_counts(snap, unit_id=u, first=low, last=high, now=now)
            for u in units
        ]
    figures = unit_figures(unit_id, low, last, merge_counts(counts))
    by_month = {m["month"]: m for m in figures["months"]}
    months = [m for m in figures["months"] if m["month"] >= first]
    for month in months:
        month["year_before"] = by_month[shift_month(month["month"], -12)]["complaints_filed"]
    filed = sum(m["complaints_filed"] for m in months)
    before = sum(m["year_before"] for m in months)
    return {
        "unit_id": unit_id,
        "units": units,
        "rollup": units != [unit_id],
        "from": first,
        "to": last,
        "months": months,
        "total": {"filed": filed, "year_before": before, "yoy": pct_change(filed, before)},
    }


async def unit_record(d: QueryDeps, unit_id: str, year: int | None) -> Json:
    """A unit's warnings and alerts (all statuses) with their evidence ids."""
    first, last = (f"{year:04d}-01", f"{year:04d}-12") if year else (None, None)
    query = ListQuery(unit_id=unit_id, status="all", first=first, last=last, limit=MAX_LIST)
    warnings = await routes.list_warnings(d, query, rule=None)
    alerts = await routes.unit_alerts(d, unit_id, year=year, status="all")
    return {
        "warnings": warnings["items"],
        "more": warnings["next_cursor"] is not None,
        "alerts": alerts["items"],
    }


async def watchlist(d: QueryDeps, as_of: datetime) -> Json:
    return await routes.watchlist(d, unit_id=None, as_of=as_of.isoformat())


async def overdue(d: QueryDeps, unit_id: str | None, as_of: datetime) -> Json:
    page = await routes.overdue(
        d, unit_id=unit_id or None, as_of=as_of.isoformat(), limit=OVERDUE_SHOWN, cursor=None
    )
    for item in page["items"]:
        item["days_overdue"] = max(0, (as_of - item["deadline"]).days)
    return page


async def scorecard(d: QueryDeps, staff_id: str, year: int | None) -> Json:
    return await routes.staff_scorecard_route(d, staff_id, year=year)
