"""Periods and working days in the policy's time zone.

Months and years are calendar periods where the organisation is, not in UTC: an event at
2026-01-31T17:30Z happened on 2026-02-01 in Asia/Shanghai and counts for February.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from services.assessment.domain.policy import CalendarPolicy, Policy
from shared.catalogue import Handling

_ONE_DAY = timedelta(days=1)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return _aware(instant).astimezone(tz).date()


# Every UTC offset is strictly within ±24 h (datetime's utcoffset() refuses any other; the
# tz database's lie within ±16 h), so an instant's local date is its UTC date, the day
# before or the day after, in any zone. An instant in UTC (as the database and the
# canonical wire form give them) that is not on the first day or the last days of its
# UTC month is in that month, and that year, wherever the zone: no zone conversion needed
# (most instants; tests/unit/assessment/domain/test_calendar_shortcuts.py compares with
# the conversion over any zone and instant). The same holds, a day further from the
# month's edges, for an instant at a fixed offset (as an event's text spells it): its
# local date in any zone is within two days of its own date.


def month_of(instant: datetime, tz: ZoneInfo) -> str:
    if instant.tzinfo is UTC and 1 < instant.day < 28:
        return _month_text(instant.year, instant.month)
    if type(instant.tzinfo) is timezone and 2 < instant.day < 27:
        return _month_text(instant.year, instant.month)
    return month_of_date(local_date(instant, tz))


def month_of_date(day: date) -> str:
    return _month_text(day.year, day.month)


@cache
def _month_text(year: int, month: int) -> str:
    # Formatting costs more than a zone conversion, and a history spans few months.
    return f"{year:04d}-{month:02d}"


def year_of(instant: datetime, tz: ZoneInfo) -> int:
    if instant.tzinfo is UTC and (1 < instant.month < 12 or 1 < instant.day < 28):
        return instant.year
    if type(instant.tzinfo) is timezone and (1 < instant.month < 12 or 2 < instant.day < 27):
        return instant.year
    return local_date(instant, tz).year


def is_working_day(day: date, calendar: CalendarPolicy) -> bool:
    if day in calendar.workdays:
        return True
    if day in calendar.holidays:
        return False
    return day.isoweekday() not in calendar.weekend


def last_allowed_day(filed_at: datetime, handling: Handling, policy: Policy) -> date:
    """The last local day on which a verdict is in time (限时办结).

    N working days are counted from the day after filing; 0 means the filing day itself.
    """
    return last_allowed_day_from(local_date(filed_at, policy.tz), handling, policy)


def last_allowed_day_from(filed_on: date, handling: Handling, policy: Policy) -> date:
    """`last_allowed_day` of a complaint filed on the local day `filed_on`."""
    return _working_days_after(filed_on, policy.time_limits[handling], policy.calendar)


@lru_cache(maxsize=8192)
def _working_days_after(day: date, count: int, calendar: CalendarPolicy) -> date:
    # Many complaints share a filing day: the walk over the calendar is done once.
    remaining = count
    while remaining > 0:
        day += _ONE_DAY
        if is_working_day(day, calendar):
            remaining -= 1
    return day


def complaint_deadline(filed_at: datetime, handling: Handling, policy: Policy) -> datetime:
    """The exclusive deadline: 00:00 local on the day after the last allowed day."""
    return deadline_after(last_allowed_day(filed_at, handling, policy), policy.tz)


@lru_cache(maxsize=8192)
def deadline_after(last_day: date, tz: ZoneInfo) -> datetime:
    """00:00 local on the day after `last_day` (many complaints share it: built once)."""
    return datetime.combine(last_day + _ONE_DAY, time.min, tzinfo=tz)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is not UTC and (instant.tzinfo is None or instant.utcoffset() is None):
        # Event times always carry an offset; a naive one here is a bug upstream.
        raise ValueError(f"naive datetime where an aware instant is required: {instant!r}")
    return instant
