"""The managers' dashboard (管理驾驶舱): server-rendered pages under /dashboard.

Thin, like the JSON routes: parse the query, read through data.py, shape a chart, render.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from services.assessment.entrypoints.http.dashboard import auth, cards, charts, data, labels
from services.assessment.entrypoints.http.routes import QueryDeps, deps

HERE = Path(__file__).parent
# The pages load nothing but their own stylesheet: no script, no other host.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
NAV = (
    ("/dashboard", "单位排名 Ranking"),
    ("/dashboard/trend", "投诉趋势 Trend"),
    ("/dashboard/watchlist", "预警 Watchlist"),
    ("/dashboard/overdue", "限时办结 Overdue"),
    ("/dashboard/staff", "星级服务 Scorecard"),
    ("/dashboard/unit", "告诫 Warnings & alerts"),
)
RANKING_CHART_ROWS = 20
RANKING_TABLE_ROWS = 100  # hundreds of units: the table shows the top; the rest by link

Deps = Annotated[QueryDeps, Depends(deps)]
Text = Annotated[str | None, Query()]
Year = Annotated[int | None, Query(ge=1900, le=2999)]
From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]


class _Environment(jinja2.Environment):
    """Jinja2 reads `row.unit_id` as getattr(row, "unit_id") first, then row["unit_id"]:
    on a dict (every row the pages show) that raises and catches an AttributeError per
    field shown, a third of a large page's rendering. A name that is not an attribute
    of dict is looked up as a key at once: the same answer, without the exception."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


_DICT_ATTRIBUTES = frozenset(dir(dict))


def _environment() -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = labels.pct
    env.filters["rule"] = labels.rule
    env.filters["category"] = labels.category
    env.filters["when"] = lambda value, tz: value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    env.filters["segment"] = lambda value: quote(str(value), safe="")
    env.globals.update(
        nav=NAV,
        levels=labels.LEVELS,
        statuses=labels.STATUSES,
        handling=labels.HANDLING,
        channels=labels.CHANNELS,
        card_icons=cards.icons,
        cards_beside=cards.beside,
    )
    return env


def install_dashboard(app: FastAPI, *, check_token: auth.TokenCheck) -> None:
    """`/` and `/dashboard/*`: the pages, the sign-in form and the stylesheet."""
    templates = _environment()

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = templates.get_template(name).render(path=request.url.path, **context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    async def viewer(request: Request) -> None:
        await auth.require_viewer(request, check_token)

    async def sign_in_required(request: Request, error: Exception) -> Response:
        assert isinstance(error, auth.SignInRequiredError)
        target = "/dashboard/sign-in?next=" + quote(error.next_url, safe="")
        return RedirectResponse(target, status_code=303)

    app.add_exception_handler(auth.SignInRequiredError, sign_in_required)
    app.mount("/dashboard/static", StaticFiles(directory=HERE / "static"), name="dashboard")
    app.include_router(_sign_in_router(render, check_token))
    app.include_router(_pages_router(render), dependencies=[Depends(viewer)])

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/dashboard", status_code=307)


Render = Callable[..., HTMLResponse]


def _sign_in_router(render: Render, check_token: auth.TokenCheck) -> APIRouter:
    router = APIRouter(prefix="/dashboard", include_in_schema=False)

    @router.get("/sign-in")
    async def sign_in_form(request: Request, next: Text = None) -> HTMLResponse:
        return render(request, "sign_in.html", next=auth.safe_next(next), error=None)

    @router.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        if not auth.same_origin(request):
            return render(
                request,
                "sign_in.html",
                403,
                next="/dashboard",
                error="跨站提交被拒绝 A form from another site was refused.",
            )
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        token = form.get("token", [""])[0]
        target = auth.safe_next(form.get("next", [None])[0])
        if not await auth.token_valid(check_token, token):
            return render(
                request,
                "sign_in.html",
                401,
                next=target,
                error="令牌无效 That read token is not valid.",
            )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            auth.COOKIE,
            token,
            max_age=auth.COOKIE_MAX_AGE_S,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        if not auth.same_origin(request):
            raise HTTPException(status_code=403, detail="cross-site form refused")
        response = RedirectResponse("/dashboard/sign-in", status_code=303)
        response.delete_cookie(auth.COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return router


Build = Callable[[ZoneInfo], Awaitable[dict[str, Any]]]


async def _shown(
    request: Request, render: Render, name: str, d: QueryDeps, build: Build
) -> HTMLResponse:
    """Render `name` with what `build` reads (given the policy's time zone, in which
    the page shows times), all in one snapshot; a bad parameter shows on the page (422)."""
    try:
        async with d.read_model.snapshot() as snap:
            tz = snap.policy.tz
            context = await build(tz)
        context["tz"] = tz
    except HTTPException as error:
        if error.status_code != 422:
            raise
        problems = error.detail if isinstance(error.detail, list) else [{"msg": error.detail}]
        message = "; ".join(str(p.get("msg")) for p in problems)
        return render(request, "problem.html", 422, message=message)
    return render(request, name, **context)


def _pages_router(render: Render) -> APIRouter:
    router = APIRouter(prefix="/dashboard", include_in_schema=False)

    @router.get("")
    async def ranking(request: Request, d: Deps, period: Text = None) -> HTMLResponse:
        return await _shown(request, render, "ranking.html", d, lambda tz: _ranking(d, period, tz))

    @router.get("/trend")
    async def trend(
        request: Request, d: Deps, unit: Text = None, first: From = None, last: To = None
    ) -> HTMLResponse:
        return await _shown(
            request, render, "trend.html", d, lambda tz: _trend(d, unit, first, last, tz)
        )

    @router.get("/watchlist")
    async def watchlist(request: Request, d: Deps, as_of: Text = None) -> HTMLResponse:
        return await _shown(
            request, render, "watchlist.html", d, lambda tz: _watchlist(d, as_of, tz)
        )

    @router.get("/overdue")
    async def overdue(
        request: Request, d: Deps, unit: Text = None, as_of: Text = None
    ) -> HTMLResponse:
        return await _shown(
            request, render, "overdue.html", d, lambda tz: _overdue(d, unit, as_of, tz)
        )

    @router.get("/staff")
    async def staff(request: Request, d: Deps, staff: Text = None, year: Year = None) -> Any:
        return await _shown(request, render, "staff.html", d, lambda tz: _staff(d, staff, year, tz))

    @router.get("/unit")
    async def unit(request: Request, d: Deps, unit: Text = None, year: Year = None) -> Any:
        return await _shown(request, render, "unit.html", d, lambda tz: _unit(d, unit, year, tz))

    return router


async def _ranking(d: QueryDeps, text: str | None, tz: ZoneInfo) -> dict[str, Any]:
    chosen = data.period(text, today=d.clock(), tz=tz)
    rows = await data.ranking(d, chosen)
    chart = charts.rows(
        [
            charts.Row(
                row["unit_id"],
                row["warnings"],
                {
                    "unit": row["unit_id"],
                    "warnings": str(row["warnings"]),
                    "red": str(row["red_cards"]),
                    "yellow": str(row["yellow_cards"]),
                },
            )
            for row in rows[:RANKING_CHART_ROWS]
        ],
        title=f"有效告诫 Active warnings, {chosen.text}",
    )
    return {"period": chosen, "rows": rows[:RANKING_TABLE_ROWS], "units": len(rows), "chart": chart}


async def _trend(
    d: QueryDeps, unit: str | None, first: str | None, last: str | None, tz: ZoneInfo
) -> dict[str, Any]:
    if not unit:
        return {"unit": None, "first": first or "", "last": last or ""}
    found = await data.trend(d, unit, first, last)
    chart = charts.columns(
        [
            charts.Column(
                m["month"],
                m["complaints_filed"],
                {
                    "month": m["month"],
                    "filed": str(m["complaints_filed"]),
                    "year-before": str(m["year_before"]),
                    "yoy": _number(m["change"]["complaints_filed"]["yoy"]),
                    "mom": _number(m["change"]["complaints_filed"]["mom"]),
                },
                ghost=m["year_before"],
            )
            for m in found["months"]
        ],
        title=f"受理投诉 Complaints filed — {unit}",
    )
    return {
        "unit": unit,
        "first": found["from"],
        "last": found["to"],
        "trend": found,
        "chart": chart,
    }


async def _watchlist(d: QueryDeps, as_of: str | None, tz: ZoneInfo) -> dict[str, Any]:
    moment = data.instant(as_of, tz=tz, now=d.clock())
    found = await data.watchlist(d, moment)
    return {"as_of": moment, "as_of_text": as_of or "", "watch": found}


async def _overdue(
    d: QueryDeps, unit: str | None, as_of: str | None, tz: ZoneInfo
) -> dict[str, Any]:
    moment = data.instant(as_of, tz=tz, now=d.clock())
    found = await data.overdue(d, unit, moment)
    chart = charts.rows(
        [
            charts.Row(
                item["complaint_id"],
                item["days_overdue"],
                {"complaint": item["complaint_id"], "days": str(item["days_overdue"])},
                "bar late",
            )
            for item in found["items"][:RANKING_CHART_ROWS]
        ],
        title="超期天数 Days past the deadline",
    )
    return {
        "unit": unit or "",
        "as_of": moment,
        "as_of_text": as_of or "",
        "page": found,
        "chart": chart,
    }


async def _staff(d: QueryDeps, staff: str | None, year: int | None, tz: ZoneInfo) -> dict[str, Any]:
    if not staff:
        return {"staff": None, "year": year or ""}
    card = await data.scorecard(d, staff, year)
    chart = charts.columns(
        [
            charts.Column(
                m["month"][5:] + "月",
                m["score"],
                {"month": m["month"], "score": str(m["score"]), "stars": str(m["stars"])},
                css=f"bar stars-{m['stars']}",
            )
            for m in card["months"]
        ],
        title=f"月度得分 Monthly score — {staff} {card['year']}",
    )
    return {"staff": staff, "year": card["year"], "card": card, "chart": chart}


async def _unit(d: QueryDeps, unit: str | None, year: int | None, tz: ZoneInfo) -> dict[str, Any]:
    if not unit:
        return {"unit": None, "year": year or ""}
    record = await data.unit_record(d, unit, year)
    return {"unit": unit, "year": year or "", "record": record}


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
