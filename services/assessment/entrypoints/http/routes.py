"""The read API's query routes (CONTRACT.md). Thin: parse, read a snapshot, shape."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from services.assessment.adapters import deadletter, stats_views, versions, views
from services.assessment.adapters.read_model import ReadModel, Snapshot
from services.assessment.domain.calendar import month_of, year_of
from services.assessment.domain.watchlist import unit_on_watch
from services.assessment.entrypoints.http import params
from services.assessment.entrypoints.http.schemas import (
    AlertPage,
    DeadLetterPage,
    Figures,
    OverduePage,
    StaffWarnings,
    StatusOut,
    UnitAlerts,
    WarningPage,
    Watchlist,
)
from services.assessment.service_layer.figures import base_range, staff_scorecard, unit_figures
from shared.catalogue import AlertRule, WarningRule

EndOffsets = Callable[[str], Awaitable[dict[int, int] | None]]


@dataclass(frozen=True, slots=True)
class QueryDeps:
    read_model: ReadModel
    topic: str
    end_offsets: EndOffsets
    clock: Callable[[], datetime]
    fold_health: Callable[[], dict[str, Any]] = dict


async def deps(request: Request) -> QueryDeps:
    # async: FastAPI calls a plain function (or a class) dependency in a worker thread,
    # a hand-off per request.
    found: QueryDeps = request.app.state.query_deps
    return found


Deps = Annotated[QueryDeps, Depends(deps)]
StatusParam = Annotated[Literal["active", "revoked", "all"], Query()]
YearParam = Annotated[int | None, Query(ge=1900, le=2999)]
LimitParam = Annotated[int, Query(ge=1, le=500)]
CursorParam = Annotated[
    str | None,
    Query(
        pattern=params.CURSOR_PATTERN,
        description="`next_cursor` of the previous page (opaque).",
    ),
]
StaffId = Annotated[str, Path(pattern=params.ID_PATTERN, description="e.g. E1024")]
UnitId = Annotated[
    str,
    Path(
        pattern=params.ID_PATTERN,
        description="e.g. qsb/licensing; send a `/` as %2F or as it is.",
    ),
]
StaffFilter = Annotated[str | None, Query(pattern=params.ID_PATTERN)]
UnitFilter = Annotated[str | None, Query(pattern=params.ID_PATTERN)]
# The patterns of the text parameters below are checked by `params` (with reasons that
# say what to send); they are declared here for the OpenAPI document.
# Checked exactly as documented: a bare number or date is refused, not read as a time.
SinceParam = Annotated[
    str | None,
    Query(
        description="RFC 3339 date-time with an offset: only what was parked at or after it.",
        json_schema_extra={"format": "date-time", "pattern": params.INSTANT_PATTERN},
    ),
]
AsOfParam = Annotated[
    str | None,
    Query(
        description="RFC 3339 date-time with an offset (default: now).",
        json_schema_extra={"format": "date-time", "pattern": params.INSTANT_PATTERN},
    ),
]
# The contract's names `from` and `to` are Python keywords: aliased.
_MONTH_SCHEMA = {"pattern": params.MONTH_PATTERN}
MonthFrom = Annotated[
    str | None,
    Query(
        alias="from",
        description="YYYY-MM (default: 11 months before `to`).",
        json_schema_extra=_MONTH_SCHEMA,
    ),
]
MonthTo = Annotated[
    str | None,
    Query(
        alias="to", description="YYYY-MM (default: this month).", json_schema_extra=_MONTH_SCHEMA
    ),
]
_BOUND_SCHEMA = {"pattern": params.BOUND_PATTERN}
_BOUND_TEXT = "YYYY-MM or YYYY-MM-DD (in the policy's time zone) or an RFC 3339 date-time"
FromParam = Annotated[
    str | None,
    Query(
        alias="from",
        description=f"Issued at or after: {_BOUND_TEXT}.",
        json_schema_extra=_BOUND_SCHEMA,
    ),
]
ToParam = Annotated[
    str | None,
    Query(
        alias="to",
        description=f"Issued up to: {_BOUND_TEXT} (a month or day inclusive, "
        "a date-time exclusive).",
        json_schema_extra=_BOUND_SCHEMA,
    ),
]

router = APIRouter(prefix="/v1")


def _status(value: str) -> str | None:
    return None if value == "all" else value


@router.get("/staff/{staff_id:path}/warnings", response_model=StaffWarnings)
async def staff_warnings(
    d: Deps, staff_id: StaffId, year: YearParam = None, status: StatusParam = "active"
) -> dict[str, Any]:
    async with d.read_model.snapshot() as snap:
        items = await views.staff_warnings(
            snap, staff_id=staff_id, year=year, status=_status(status)
        )
    return {"staff_id": staff_id, "year": year, "status": status, "items": items}


@router.get("/staff/{staff_id:path}/scorecard")
async def staff_scorecard_route(d: Deps, staff_id: StaffId, year: YearParam = None) -> Figures:
    async with d.read_model.snapshot() as snap:
        year = year or year_of(d.clock(), snap.policy.tz)
        counts = await stats_views.staff_month_counts(snap, staff_id=staff_id, year=year)
        return staff_scorecard(staff_id, year, counts, snap.policy)


@router.get("/units/{unit_id:path}/alerts", response_model=UnitAlerts)
async def unit_alerts(
    d: Deps, unit_id: UnitId, year: YearParam = None, status: StatusParam = "active"
) -> dict[str, Any]:
    async with d.read_model.snapshot() as snap:
        items = await views.unit_alerts(snap, unit_id=unit_id, year=year, status=_status(status))
    return {"unit_id": unit_id, "year": year, "status": status, "items": items}


@router.get("/units/{unit_id:path}/stats")
async def unit_stats(
    d: Deps, unit_id: UnitId, first: MonthFrom = None, last: MonthTo = None
) -> Figures:
    async with d.read_model.snapshot() as snap:
        now = d.clock()
        first, last = params.stats_range(first, last, today_month=month_of(now, snap.policy.tz))
        low, high = base_range(first, last)
        counts = await stats_views.unit_month_counts(
            snap, unit_id=unit_id, first=low, last=high, now=now
        )
    return unit_figures(unit_id, first, last, counts)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The filters and paging both lists share (`rule` differs: it is per list)."""

    unit_id: UnitFilter = None
    staff_id: StaffFilter = None
    status: StatusParam = "all"
    first: FromParam = None
    last: ToParam = None
    limit: LimitParam = 100
    cursor: CursorParam = None

    def to_filter(self, tz: Any, rule: WarningRule | AlertRule | None) -> views.ListFilter:
        since = params.bound("from", self.first, tz, upper=False)
        until = params.bound("to", self.last, tz, upper=True)
        if since and until and since >= until:
            raise params.invalid("from", "from must be before to")
        return views.ListFilter(
            unit_id=self.unit_id,
            staff_id=self.staff_id,
            rule=rule.value if rule else None,
            status=_status(self.status),
            since=since,
            until=until,
            after=params.decode_cursor(self.cursor),
            limit=self.limit,
        )


async def _list_query(**fields: Any) -> ListQuery:
    return ListQuery(**fields)


# ListQuery's own parameters, read by FastAPI from this signature; an async dependency,
# not the class itself, which FastAPI would call in a worker thread (see `deps`).
_list_query.__signature__ = inspect.signature(ListQuery)  # type: ignore[attr-defined]
ListParams = Annotated[ListQuery, Depends(_list_query)]
ListView = Callable[[Snapshot, views.ListFilter], Awaitable[list[dict[str, Any]]]]


async def _page(
    d: QueryDeps, query: ListQuery, rule: WarningRule | AlertRule | None, view: ListView
) -> dict[str, Any]:
    async with d.read_model.snapshot() as snap:
        items = await view(snap, query.to_filter(snap.policy.tz, rule))
    return {"items": items, "next_cursor": _next_cursor(items, query.limit)}


@router.get("/warnings", response_model=WarningPage)
async def list_warnings(
    d: Deps, query: ListParams, rule: WarningRule | None = None
) -> dict[str, Any]:
    return await _page(d, query, rule, views.list_warnings)


@router.get("/alerts", response_model=AlertPage)
async def list_alerts(d: Deps, query: ListParams, rule: AlertRule | None = None) -> dict[str, Any]:
    """Alerts are unit-level; `staff_id` selects those built on that person's warnings."""
    return await _page(d, query, rule, views.list_alerts)


def _next_cursor(items: list[dict[str, Any]], limit: int) -> str | None:
    if len(items) < limit:
        return None
    return params.encode_cursor(items[-1]["issued_at"], items[-1]["id"])


@router.get("/complaints/overdue", response_model=OverduePage)
async def overdue(
    d: Deps,
    unit_id: UnitFilter = None,
    as_of: AsOfParam = None,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> dict[str, Any]:
    moment = params.instant_param("as_of", as_of) or d.clock()
    async with d.read_model.snapshot() as snap:
        items = await views.overdue_complaints(
            snap, unit_id=unit_id, as_of=moment, after=params.decode_cursor(cursor), limit=limit
        )
    next_cursor = None
    if len(items) == limit:
        next_cursor = params.encode_cursor(items[-1]["deadline"], items[-1]["complaint_id"])
    return {"as_of": moment, "items": items, "next_cursor": next_cursor}


@router.get("/watchlist", response_model=Watchlist)
async def watchlist(d: Deps, unit_id: UnitFilter = None, as_of: AsOfParam = None) -> dict[str, Any]:
    """Early warnings (预警): one more attendance finding this month, or one more
    warning this year, would issue a warning or a collective warning."""
    moment = params.instant_param("as_of", as_of) or d.clock()
    async with d.read_model.snapshot() as snap:
        policy = snap.policy
        month, year = month_of(moment, policy.tz), year_of(moment, policy.tz)
        staff = await views.staff_at_attendance_limit(
            snap, month=month, as_of=moment, unit_id=unit_id
        )
        units = await views.active_warnings_by_unit(snap, year=year, as_of=moment, unit_id=unit_id)
    return {
        "as_of": moment,
        "staff": [
            {**row, "month": month, "warning_at": policy.attendance.monthly_limit + 1}
            for row in staff
        ],
        "units": [
            {**row, "year": year, "collective_warning_at": row["active_warnings"] + 1}
            for row in units
            if unit_on_watch(row["active_warnings"], policy)
        ],
    }


@router.get("/status", response_model=StatusOut)
async def status_route(d: Deps) -> dict[str, Any]:
    async with d.read_model.snapshot() as snap:
        stored = await views.positions(snap, d.topic)
        all_versions = await versions.list_versions(snap.conn)
        live = snap.version
    ends = await d.end_offsets(d.topic) or {}
    partitions = []
    for partition in sorted(set(stored) | set(ends)):
        position, end = stored.get(partition), ends.get(partition)
        lag = None if end is None else end - (position + 1 if position is not None else 0)
        partitions.append(
            {"partition": partition, "position": position, "end_offset": end, "lag": lag}
        )
    lags = [p["lag"] for p in partitions if p["lag"] is not None]
    return {
        "projection_version": live.version,
        "policy_version": live.policy_version,
        "policy_fingerprint": live.policy_fingerprint,
        "live_since": live.live_since,
        "topic": d.topic,
        "partitions": partitions,
        "lag": sum(lags) if ends else None,
        "versions": [_version(v) for v in all_versions],
        "fold": d.fold_health(),
    }


@router.get("/deadletters", response_model=DeadLetterPage)
async def list_deadletters(
    d: Deps,
    # A reason code (e.g. conflicting_duplicate): the pattern also keeps NUL, which
    # PostgreSQL cannot take as text, out of the query.
    reason: Annotated[str | None, Query(pattern="^[a-z_]{1,64}$")] = None,
    since: SinceParam = None,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> dict[str, Any]:
    """Records of events.v1 the fold parked, oldest first: reason, error, origin, and
    source/id/type when they decoded; never the record's data (complainant data)."""
    after = params.decode_cursor(cursor)
    if after is not None and not after[1].isdigit():
        raise params.invalid("cursor", "not a cursor this API issued")
    async with d.read_model.snapshot() as snap:
        items = await deadletter.list_parked(
            snap.conn,
            reason=reason,
            since=params.instant_param("since", since),
            after=(after[0], int(after[1])) if after else None,
            limit=limit,
        )
    rows = [item.as_dict() for item in items]
    next_cursor = None
    if len(rows) == limit:
        next_cursor = params.encode_cursor(items[-1].parked_at, str(items[-1].id))
    return {"items": rows, "next_cursor": next_cursor}


def _version(v: versions.Version) -> dict[str, Any]:
    return {
        "version": v.version,
        "state": v.state,
        "policy_version": v.policy_version,
        "policy_fingerprint": v.policy_fingerprint,
        "created_at": v.created_at,
        "live_since": v.live_since,
    }
