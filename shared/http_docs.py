"""/docs (Swagger UI) and /redoc (ReDoc) served with their assets from this process, so
they work without internet. The assets come from the pinned `fastapi-offline` package
(which ships swagger-ui-dist, Apache-2.0, and ReDoc's standalone build, MIT).

ReDoc's build shows a logo it loads from Redocly's CDN; we serve it with that one URL
pointed at a local image, so opening the docs makes no request off this host."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"
REDOC_JS = "redoc.standalone.js"
REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache  # read and patched once per process, not per app
def offline_redoc_js() -> bytes:
    script = (ASSETS / REDOC_JS).read_bytes()
    return script.replace(REDOC_CDN_LOGO, f"{ASSETS_URL}/favicon.png".encode())


def install_offline_docs(app: FastAPI) -> None:
    """Give an app built with `docs_url=None, redoc_url=None` its /docs and /redoc."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(f"{ASSETS_URL}/{REDOC_JS}", include_in_schema=False)
    async def redoc_script() -> Response:  # before the mount, which would shadow it
        return Response(
            offline_redoc_js(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{ASSETS_URL}/{REDOC_JS}",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
