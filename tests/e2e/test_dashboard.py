"""The managers' dashboard in a real browser (headless Chromium via Playwright), on both
services running as processes with the demo's sample history folded.

The services (`services`, tests/e2e/conftest.py) are shared with the Grafana test.
Every page: the expected content, its chart data equal to the query API's JSON for the
same inputs, no console error, and no request to anything but 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page

from demo.sample_history import OVERDUE_AS_OF, TAXI_UNITS, WATCHLIST_AS_OF
from tests.support.assessment_env import READ_TOKEN
from tests.support.browser import Recorder, chromium, recorded_page
from tests.support.services import RunningServices

pytestmark = pytest.mark.e2e
YEAR = "2026"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def signed_in(browser: Browser, services: RunningServices) -> AsyncIterator[BrowserContext]:
    """A browser session signed in through the form, as a manager would."""
    context = await browser.new_context(base_url=services.assessment_url, locale="zh-CN")
    tab = await recorded_page(context)
    await tab.page.goto("/dashboard")
    await tab.page.fill("#token", READ_TOKEN)
    await tab.page.click("button[type=submit]")
    await tab.page.wait_for_url("**/dashboard")
    tab.assert_clean()
    await tab.page.close()
    try:
        yield context
    finally:
        await context.close()


async def visit(context: BrowserContext, path: str) -> Recorder:
    tab = await recorded_page(context)
    answer = await tab.page.goto(path)
    assert answer is not None
    assert answer.status == 200, f"{path}: {answer.status}"
    await tab.page.wait_for_load_state("load")
    tab.assert_clean()
    return tab


async def rows(page: Page, selector: str) -> list[dict[str, str]]:
    """The data-* attributes of every element matching `selector`."""
    found: list[dict[str, str]] = await page.eval_on_selector_all(
        selector, "els => els.map(e => Object.assign({}, e.dataset))"
    )
    return found


async def stats(
    services: RunningServices, unit: str, first: str, last: str
) -> list[dict[str, Any]]:
    answer = await services.get(
        f"/v1/units/{quote(unit, safe='')}/stats", **{"from": first, "to": last}
    )
    months: list[dict[str, Any]] = answer["months"]
    return months


# ------------------------------------------------------------------------ sign-in


async def test_a_page_without_a_token_leads_to_sign_in_and_back(
    browser: Browser, services: RunningServices
) -> None:
    context = await browser.new_context(base_url=services.assessment_url)
    tab = await recorded_page(context)
    await tab.page.goto("/")  # `/` leads to the dashboard, which asks to sign in first
    assert "/dashboard/sign-in" in tab.page.url
    await tab.page.fill("#token", "not-a-token")
    await tab.page.click("button[type=submit]")
    assert "令牌无效" in await tab.page.inner_text(".error")
    await tab.page.fill("#token", READ_TOKEN)
    await tab.page.click("button[type=submit]")
    await tab.page.wait_for_url("**/dashboard")
    assert "单位排名" in await tab.page.inner_text("h1")
    cookie = next(c for c in await context.cookies() if c["name"] == "sn_read_token")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert await tab.page.evaluate("document.cookie") == "", "the token is not readable by scripts"
    await tab.page.click(".sign-out button")
    await tab.page.wait_for_url("**/dashboard/sign-in")
    await tab.page.goto("/dashboard/watchlist")
    assert "/dashboard/sign-in?next=%2Fdashboard%2Fwatchlist" in tab.page.url
    # 4xx answers to the wrong token are the page's own, not console errors from assets.
    tab.errors = [e for e in tab.errors if "401" not in e]
    tab.assert_clean()
    await context.close()


async def test_tools_use_the_bearer_header_and_forms_from_other_sites_are_refused(
    services: RunningServices,
) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=services.assessment_url, timeout=30) as client:
        good = await client.get("/dashboard", headers={"Authorization": f"Bearer {READ_TOKEN}"})
        assert good.status_code == 200
        assert "default-src 'none'" in good.headers["content-security-policy"]
        bad = await client.get("/dashboard", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        bare = await client.get("/dashboard/overdue")
        assert bare.status_code == 303
        assert bare.headers["location"] == "/dashboard/sign-in?next=%2Fdashboard%2Foverdue"
        forged = await client.post(
            "/dashboard/sign-in",
            content=f"token={READ_TOKEN}&next=/dashboard",
            headers={**form, "Origin": "http://evil.example"},
        )
        assert forged.status_code == 403
        assert "set-cookie" not in forged.headers
        away = await client.post(
            "/dashboard/sign-in",
            content=f"token={READ_TOKEN}&next=//evil.example/",
            headers=form,
        )
        assert away.status_code == 303
        assert away.headers["location"] == "/dashboard", "no open redirect"


# ------------------------------------------------------------------------- pages


async def test_ranking_shows_red_and_yellow_cards_as_the_api_counts_them(
    signed_in: BrowserContext, services: RunningServices
) -> None:
    tab = await visit(signed_in, f"/dashboard?period={YEAR}")
    table = await rows(tab.page, "#ranking tbody tr")
    assert table, "the sample has units in 2026"
    for row in table:
        unit = row["unit"]
        months = await stats(services, unit, f"{YEAR}-01", f"{YEAR}-12")
        red = await services.get(
            "/v1/alerts",
            unit_id=unit,
            rule="leadership_accountability",
            status="active",
            **{"from": f"{YEAR}-01", "to": f"{YEAR}-12"},
        )
        assert int(row["filed"]) == sum(m["complaints_filed"] for m in months), unit
        assert int(row["substantiated"]) == sum(m["complaints_substantiated"] for m in months)
        assert int(row["warnings"]) == sum(m["warnings"] for m in months), unit
        assert int(row["yellow"]) == sum(m["collective_warnings"] for m in months), unit
        assert int(row["red"]) == len(red["items"]), unit
    bars = {b["unit"]: b for b in await rows(tab.page, "svg rect.bar")}
    for row in table[: len(bars)]:
        assert bars[row["unit"]]["warnings"] == row["warnings"]
        assert bars[row["unit"]]["red"] == row["red"]
    # The bureau's story: a red card (leadership accountability) and yellow cards.
    licensing = next(r for r in table if r["unit"] == "qsb/licensing")
    assert int(licensing["red"]) >= 1
    assert int(licensing["yellow"]) >= 2
    assert table[0]["unit"].startswith("qsb/"), "most accountability first"
    cards = await tab.page.eval_on_selector_all("svg rect.card-red", "els => els.length")
    assert cards == sum(int(r["red"]) for r in table[: len(bars)])


async def test_trend_bars_are_the_api_figures_with_yoy_and_mom(
    signed_in: BrowserContext, services: RunningServices
) -> None:
    unit = TAXI_UNITS[0]
    tab = await visit(
        signed_in, f"/dashboard/trend?unit={quote(unit, safe='')}&from=2025-11&to=2026-02"
    )
    bars = await rows(tab.page, "svg rect.bar")
    api = await stats(services, unit, "2025-11", "2026-02")
    assert [b["month"] for b in bars] == [m["month"] for m in api]
    for bar, month in zip(bars, api, strict=True):
        change = month["change"]["complaints_filed"]
        assert int(bar["filed"]) == month["complaints_filed"]
        assert bar["yoy"] == ("" if change["yoy"] is None else f"{change['yoy']:g}")
        assert bar["mom"] == ("" if change["mom"] is None else f"{change['mom']:g}")
    ghosts = await tab.page.eval_on_selector_all("svg rect.ghost", "els => els.length")
    assert ghosts == len(api)
    header = await tab.page.inner_text("#trend thead")
    assert "同比" in header
    assert "环比" in header


async def test_trend_of_the_taxi_company_adds_up_its_fleets_41_27_minus_60_percent(
    signed_in: BrowserContext, services: RunningServices
) -> None:
    tab = await visit(signed_in, "/dashboard/trend?unit=taxi-co&from=2026-01&to=2026-02")
    bars = await rows(tab.page, "svg rect.bar")
    assert [(b["month"], b["filed"]) for b in bars] == [("2026-01", "41"), ("2026-02", "27")]
    fleets = [await stats(services, u, "2026-01", "2026-02") for u in TAXI_UNITS]
    assert [sum(f[i]["complaints_filed"] for f in fleets) for i in (0, 1)] == [41, 27]
    total = (await rows(tab.page, "#period-total"))[0]
    assert (total["filed"], total["yearBefore"], total["yoy"]) == ("68", "170", "-60")
    assert "taxi-co/fleet-1" in await tab.page.inner_text(".note")


async def test_watchlist_lists_what_the_api_lists(
    signed_in: BrowserContext, services: RunningServices
) -> None:
    tab = await visit(signed_in, f"/dashboard/watchlist?as_of={quote(WATCHLIST_AS_OF, safe='')}")
    api = await services.get("/v1/watchlist", as_of=WATCHLIST_AS_OF)
    staff = await rows(tab.page, "#watch-staff tbody tr") if api["staff"] else []
    units = await rows(tab.page, "#watch-units tbody tr") if api["units"] else []
    assert api["staff"] or api["units"], "the sample has early warnings at this moment"
    assert [(s["staff"], int(s["findings"])) for s in staff] == [
        (s["staff_id"], s["attendance_findings"]) for s in api["staff"]
    ]
    assert [(u["unit"], int(u["warnings"])) for u in units] == [
        (u["unit_id"], u["active_warnings"]) for u in api["units"]
    ]
    assert "预警" in await tab.page.inner_text("h1")


async def test_overdue_lists_what_the_api_lists(
    signed_in: BrowserContext, services: RunningServices
) -> None:
    tab = await visit(signed_in, f"/dashboard/overdue?as_of={quote(OVERDUE_AS_OF, safe='')}")
    api = await services.get("/v1/complaints/overdue", as_of=OVERDUE_AS_OF, limit=100)
    assert api["items"], "the sample has overdue complaints at this moment"
    shown = await rows(tab.page, "#overdue tbody tr")
    assert [r["complaint"] for r in shown] == [c["complaint_id"] for c in api["items"]]
    bars = await rows(tab.page, "svg rect.bar")
    assert [b["complaint"] for b in bars] == [c["complaint_id"] for c in api["items"][:20]]
    assert "限时办结" in await tab.page.inner_text("h1")


@pytest.mark.parametrize("staff", ["D0007", "E1007"])
async def test_scorecard_bars_are_the_api_scores(
    signed_in: BrowserContext, services: RunningServices, staff: str
) -> None:
    tab = await visit(signed_in, f"/dashboard/staff?staff={staff}&year={YEAR}")
    api = await services.get(f"/v1/staff/{staff}/scorecard", year=YEAR)
    bars = await rows(tab.page, "svg rect.bar")
    assert [(b["month"], int(b["score"]), int(b["stars"])) for b in bars] == [
        (m["month"], m["score"], m["stars"]) for m in api["months"]
    ]
    assert (await rows(tab.page, "#award"))[0]["eligible"] == str(api["award_eligible"]).lower()


@pytest.mark.parametrize("unit", ["qsb/licensing", "qsb/metrology"])
async def test_unit_page_shows_every_warning_and_alert_with_its_evidence(
    signed_in: BrowserContext, services: RunningServices, unit: str
) -> None:
    tab = await visit(signed_in, f"/dashboard/unit?unit={quote(unit, safe='')}&year={YEAR}")
    alerts = await services.get(f"/v1/units/{quote(unit, safe='')}/alerts", year=YEAR, status="all")
    warnings = await services.get("/v1/warnings", unit_id=unit, status="all", limit=500,
                            **{"from": f"{YEAR}-01", "to": f"{YEAR}-12"})  # fmt: skip
    shown_alerts = await rows(tab.page, "#alerts tbody tr")
    assert [(a["id"], a["status"], a["evidence"].split()) for a in shown_alerts] == [
        (a["id"], a["status"], a["evidence"]) for a in alerts["items"]
    ]
    if unit == "qsb/licensing":  # the bureau's story: yellow cards, then a red one
        assert {a["level"] for a in shown_alerts} == {"collective_warning", "leadership"}
    shown = await rows(tab.page, "#warnings tbody tr")
    assert [(w["id"], w["status"], w["evidence"].split()) for w in shown] == [
        (w["id"], w["status"], w["evidence"]) for w in warnings["items"]
    ]
    if unit == "qsb/metrology":
        assert "revoked" in {w["status"] for w in shown}, "the overturned verdict's warning"
    text = await tab.page.inner_text("main")
    assert "张" not in text, "no complainant data"
    assert "138-" not in text, "no complainant data"


async def test_a_bad_parameter_is_explained_on_the_page(signed_in: BrowserContext) -> None:
    tab = await recorded_page(signed_in)
    answer = await tab.page.goto("/dashboard?period=2026-13")
    assert answer is not None
    assert answer.status == 422
    assert "YYYY-MM" in await tab.page.inner_text(".error")


# -------------------------------------------------------------------------- docs


@pytest.mark.parametrize("service", ["assessment", "intake"])
@pytest.mark.parametrize(("page", "selector"), [("/docs", ".opblock-summary-path"),
                                                ("/redoc", "[data-section-id]")])  # fmt: skip
async def test_api_docs_render_offline(
    browser: Browser, services: RunningServices, service: str, page: str, selector: str
) -> None:
    base = services.assessment_url if service == "assessment" else services.intake_url
    context = await browser.new_context(base_url=base)
    tab = await recorded_page(context)
    answer = await tab.page.goto(page)
    assert answer is not None
    assert answer.status == 200
    await tab.page.wait_for_selector(selector, timeout=30_000)
    operation = "/v1/events" if service == "intake" else "/v1/watchlist"
    await tab.page.wait_for_function(
        "text => document.body.innerText.includes(text)", arg=operation, timeout=30_000
    )
    tab.assert_clean()
    assert any("/openapi.json" in url for url in tab.requests)
    await context.close()
