"""A real browser for the dashboard and docs tests: Playwright driving headless Chromium.

Playwright's own browser download is not reachable here, so the Debian `chromium`
package is driven through `executable_path` (.ci/run installs it; CHROMIUM overrides).
Every page visit records each request the page makes and every console error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright


def chromium_path() -> str:
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        raise RuntimeError("no Chromium: `apt-get install chromium` (or set CHROMIUM=path)")
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(),
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Recorder:
    """What one browser tab did: every URL it requested, every console error."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def hosts(self) -> set[str]:
        return {urlsplit(url).hostname or url for url in self.requests}

    def assert_clean(self) -> None:
        """No console error and no request to anything but this host."""
        assert not self.errors, f"console errors: {self.errors}"
        outside = [u for u in self.requests if urlsplit(u).hostname != "127.0.0.1"]
        inline = [u for u in outside if u.startswith(("data:", "about:"))]
        assert outside == inline, f"requests left the host: {sorted(set(outside) - set(inline))}"


async def recorded_page(context: BrowserContext) -> Recorder:
    page = await context.new_page()
    recorder = Recorder(page)
    page.on("request", lambda request: recorder.requests.append(request.url))
    page.on(
        "console",
        lambda message: recorder.errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: recorder.errors.append(str(error)))
    # Anything bound elsewhere is refused, so a stray CDN link fails loudly, not slowly.
    await page.route("**/*", _local_only)
    return recorder


async def _local_only(route: Route) -> None:
    if urlsplit(route.request.url).hostname in {"127.0.0.1", None}:
        await route.continue_()
    else:
        await route.abort()
