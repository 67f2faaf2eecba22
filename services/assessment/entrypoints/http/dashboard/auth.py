"""Signing in to the dashboard: the read token, as a bearer header (tools, tests) or in
an HttpOnly, SameSite=Strict cookie set by a small form.

Every check goes through the read API's own token check (`check_token`), so the
dashboard accepts exactly the tokens the JSON API accepts, however they are configured.

CSRF: the dashboard only reads; its two forms (sign-in, sign-out) POST. The cookie is
SameSite=Strict, so no other site can make a browser send it; and a POST whose Origin
(or, without one, Referer) is another origin is refused, which also stops a forged
sign-in ("login CSRF") that SameSite alone would not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

TokenCheck = Callable[..., Awaitable[None]]
COOKIE = "sn_read_token"
COOKIE_MAX_AGE_S = 8 * 3600  # a working day


class SignInRequiredError(Exception):
    """A page request without a valid token: the browser goes to the sign-in form."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


async def token_valid(check_token: TokenCheck, token: str) -> bool:
    if not token:
        return False
    try:
        await check_token(
            credentials=HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
        )
    except HTTPException:
        return False
    return True


def bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


async def require_viewer(request: Request, check_token: TokenCheck) -> None:
    """A bearer header must be valid (401 otherwise: tools want a status, not a form);
    without one, the cookie must be, or the browser is sent to sign in."""
    given = bearer(request)
    if given is not None:
        await check_token(
            credentials=HTTPAuthorizationCredentials(scheme="Bearer", credentials=given)
        )
        return
    if not await token_valid(check_token, request.cookies.get(COOKIE, "")):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequiredError(target)


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def same_origin(request: Request) -> bool:
    """True unless the browser says the form came from another origin."""
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return True  # not a browser's cross-site form (browsers send Origin on those)
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin == own_origin(request)


def safe_next(value: str | None) -> str:
    """Only a path of this service: never an open redirect to another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard"
