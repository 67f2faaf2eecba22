"""`python -m demo.screenshots` (`make screenshots`): pictures of the dashboard for the
README, taken in headless Chromium from the stack `make demo` left running.

The pages show the sample history's story: the bureau's red and yellow cards, the taxi
company's 41 → 27 complaints (−60% on a year before), the early warnings and overdue
complaints at the moments the story has them. Needs the dev dependencies (Playwright)
and the Debian `chromium` package.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from urllib.parse import quote

from demo.sample_history import OVERDUE_AS_OF, WATCHLIST_AS_OF

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
SHOTS = {
    "dashboard-ranking": "/dashboard?period=2026",
    "dashboard-trend-taxi": "/dashboard/trend?unit=taxi-co&from=2026-01&to=2026-02",
    "dashboard-trend-bureau": "/dashboard/trend?unit=qsb%2Flicensing&from=2025-09&to=2026-06",
    "dashboard-unit-alerts": "/dashboard/unit?unit=qsb%2Flicensing&year=2026",
    "dashboard-watchlist": f"/dashboard/watchlist?as_of={quote(WATCHLIST_AS_OF, safe='')}",
    "dashboard-overdue": f"/dashboard/overdue?as_of={quote(OVERDUE_AS_OF, safe='')}",
    "dashboard-scorecard": "/dashboard/staff?staff=E1007&year=2026",
}


async def take(base: str, token: str) -> list[Path]:
    from playwright.async_api import async_playwright

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "chromium"
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        context = await browser.new_context(
            base_url=base, viewport={"width": 1280, "height": 800}, locale="zh-CN"
        )
        page = await context.new_page()
        await page.goto("/dashboard/sign-in")
        await page.fill("#token", token)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/dashboard")
        for name, path in SHOTS.items():
            await page.goto(path)
            target = OUT / f"{name}.png"
            await page.screenshot(path=str(target), full_page=True)
            written.append(target)
        await page.goto("/docs")
        await page.wait_for_selector(".opblock-summary-path")
        target = OUT / "docs-offline-swagger.png"
        await page.screenshot(path=str(target))
        written.append(target)
        await browser.close()
    return written


def main() -> None:
    base = os.environ.get("ASSESSMENT_URL") or (
        f"http://127.0.0.1:{os.environ.get('ASSESSMENT_PORT', '8081')}"
    )
    token = os.environ.get("READ_TOKEN") or "dev-read-token"
    for path in asyncio.run(take(base, token)):
        print(f"wrote {path}")  # noqa: T201 - a command's output


if __name__ == "__main__":
    main()
