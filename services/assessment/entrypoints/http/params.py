"""Query parameters of the read API: parsing with clear 422 reasons, and cursors."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import orjson
from fastapi import HTTPException, status

from services.assessment.domain.months import parse_month, shift_month

MAX_STATS_MONTHS = 120

# The formats the parameters accept, exactly: the OpenAPI document states them as
# patterns and the parsers below check them before anything else, so the document and
# the answers agree (years 1900-2999 keep every shift of a month or zone in range).
_YEAR = "(19|2[0-9])[0-9]{2}"
_MONTH = f"{_YEAR}-(0[1-9]|1[0-2])"
_DAY = f"{_MONTH}-(0[1-9]|[12][0-9]|3[01])"
_OFFSET = "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
_TIME = r"[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?" + _OFFSET
MONTH_PATTERN = f"^{_MONTH}$"
INSTANT_PATTERN = f"^{_DAY}{_TIME}$"
BOUND_PATTERN = f"^{_MONTH}(-(0[1-9]|[12][0-9]|3[01])({_TIME})?)?$"
CURSOR_PATTERN = "^[A-Za-z0-9_-]{0,1024}$"
ID_PATTERN = "^[A-Za-z0-9._:/-]{1,64}$"  # CONTRACT.md: unit_id, staff_id
_MONTH_RE = re.compile(MONTH_PATTERN)
_INSTANT_RE = re.compile(INSTANT_PATTERN)
_BOUND_RE = re.compile(BOUND_PATTERN)
_CURSOR_RE = re.compile(CURSOR_PATTERN)


def invalid(param: str, reason: str) -> HTTPException:
    """422 in FastAPI's own shape, so every bad parameter reads the same way."""
    return HTTPException(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": ["query", param], "msg": reason, "type": "value_error"}],
    )


def month_param(param: str, value: str) -> str:
    if _MONTH_RE.match(value) is None:
        raise invalid(param, f"{value!r} is not a month in YYYY-MM form (1900-2999)")
    parse_month(value)
    return value


def stats_range(first: str | None, last: str | None, *, today_month: str) -> tuple[str, str]:
    """Defaults: the twelve months up to this one."""
    last = month_param("to", last) if last is not None else today_month
    first = month_param("from", first) if first is not None else shift_month(last, -11)
    if first > last:
        raise invalid("from", f"from ({first}) is after to ({last})")
    if shift_month(first, MAX_STATS_MONTHS - 1) < last:
        raise invalid("to", f"at most {MAX_STATS_MONTHS} months per request")
    return first, last


def _month_start(month: str, tz: ZoneInfo) -> datetime:
    year, number = parse_month(month)
    return datetime(year, number, 1, tzinfo=tz)


def bound(param: str, value: str | None, tz: ZoneInfo, *, upper: bool) -> datetime | None:
    """A `from`/`to` bound: YYYY-MM, YYYY-MM-DD (both inclusive, in the policy time zone)
    or an RFC 3339 instant (`from` inclusive, `to` exclusive)."""
    if value is None:
        return None
    if _BOUND_RE.match(value) is None:
        raise invalid(param, f"{value!r} is not YYYY-MM, YYYY-MM-DD or RFC 3339 (1900-2999)")
    if len(value) == 7:
        start = _month_start(month_param(param, value), tz)
        return _month_start(shift_month(value, 1), tz) if upper else start
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise invalid(param, f"{value!r} is not a date") from None
        start = datetime.combine(day, time(), tzinfo=tz)
        return start + timedelta(days=1) if upper else start
    return _instant(param, value)


def instant_param(param: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    if _INSTANT_RE.match(value) is None:
        hint = " (a '+' in a URL must be sent as %2B)" if " " in value else ""
        if _INSTANT_RE.match(value + "Z"):
            hint = " (an RFC 3339 time needs an offset, e.g. +08:00 or Z)"
        raise invalid(param, f"{value!r} is not an RFC 3339 time, 1900-2999{hint}")
    return _instant(param, value)


def _instant(param: str, value: str) -> datetime:
    """An instant that matched the pattern; a date that does not exist is still refused."""
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:
        raise invalid(param, f"{value!r} is not a valid date and time") from None


def encode_cursor(at: datetime, key: str) -> str:
    raw = orjson.dumps([at.isoformat(), key])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[datetime, str] | None:
    if not value:
        return None
    if _CURSOR_RE.match(value) is None:
        raise invalid("cursor", "not a cursor this API issued")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        at, key = orjson.loads(raw)
        return datetime.fromisoformat(at), str(key)
    except (binascii.Error, ValueError, TypeError):
        raise invalid("cursor", "not a cursor this API issued") from None
