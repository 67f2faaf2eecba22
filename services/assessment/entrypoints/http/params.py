"""Query parameters of the read API: parsing with clear 422 reasons, and cursors."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import orjson
from fastapi import HTTPException, status

from services.assessment.domain.months import parse_month, shift_month

MAX_STATS_MONTHS = 120


def invalid(param: str, reason: str) -> HTTPException:
    """422 in FastAPI's own shape, so every bad parameter reads the same way."""
    return HTTPException(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": ["query", param], "msg": reason, "type": "value_error"}],
    )


def month_param(param: str, value: str) -> str:
    try:
        parse_month(value)
    except ValueError as error:
        raise invalid(param, str(error)) from None
    return value


def stats_range(first: str | None, last: str | None, *, today_month: str) -> tuple[str, str]:
    """Defaults: the twelve months up to this one."""
    last = month_param("to", last) if last else today_month
    first = month_param("from", first) if first else shift_month(last, -11)
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
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(param, f"{value!r} is not YYYY-MM, YYYY-MM-DD or RFC 3339") from None
    if instant.tzinfo is None:
        raise invalid(param, "an RFC 3339 time needs an offset, e.g. +08:00 or Z")
    return instant


def instant_param(param: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        hint = " (a '+' in a URL must be sent as %2B)" if " " in value else ""
        raise invalid(param, f"{value!r} is not an RFC 3339 time{hint}") from None
    if instant.tzinfo is None:
        raise invalid(param, "an RFC 3339 time needs an offset, e.g. +08:00 or Z")
    return instant


def encode_cursor(at: datetime, key: str) -> str:
    raw = orjson.dumps([at.isoformat(), key])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[datetime, str] | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        at, key = orjson.loads(raw)
        return datetime.fromisoformat(at), str(key)
    except (binascii.Error, ValueError, TypeError):
        raise invalid("cursor", "not a cursor this API issued") from None
