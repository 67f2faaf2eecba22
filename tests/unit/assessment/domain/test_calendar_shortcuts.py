"""month_of, year_of and local_date skip the zone conversion for most instants in UTC
(domain/calendar.py says why that is exact). Here they must give what the conversion
gives — `instant.astimezone(tz)`, the definition — for every instant Python can hold,
in zones with and without daylight saving time, half-hour and odd offsets, the extremes
of the offsets, and dates long before 2000 or far in the future; and fail as it fails
(a naive instant, or a conversion past year 1 or 9999)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic_core import TzInfo

from services.assessment.domain.calendar import local_date, month_of, year_of

pytestmark = pytest.mark.unit

ZONES = [
    ZoneInfo(name)
    for name in (
        "Asia/Shanghai",
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",  # daylight saving time of half an hour
        "UTC",
        "Pacific/Kiritimati",  # +14:00, the easternmost
        "Pacific/Pago_Pago",  # -11:00
        "America/St_Johns",  # -03:30 and its summer time
        "Asia/Kathmandu",  # +05:45
        "Europe/Dublin",  # negative daylight saving time in the tz database
        "Pacific/Apia",  # skipped a whole day (2011-12-30)
    )
]
zones = st.sampled_from(ZONES)

# Every instant a datetime can hold, in UTC as the database gives them.
any_utc = st.datetimes(timezones=st.just(UTC))
# Nearer the edges of months and years, where the local month may differ from UTC's.
edge_days = st.sampled_from([1, 2, 26, 27, 28, 29, 30, 31])


@st.composite
def near_month_edges(draw: st.DrawFn) -> datetime:
    year = draw(st.integers(min_value=1, max_value=9999))
    month = draw(st.integers(min_value=1, max_value=12))
    first = datetime(year, month, 1, tzinfo=UTC)
    step = timedelta(microseconds=draw(st.integers(-3 * 86_400_000_000, 3 * 86_400_000_000)))
    try:
        return first + step
    except OverflowError:
        return first


utc_instants = st.one_of(any_utc, near_month_edges())
# Instants as other clients spell them: fixed offsets, zones, pydantic's UTC.
offsets = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
)
other_instants = st.one_of(
    st.datetimes(timezones=st.builds(timezone, offsets)),
    st.datetimes(timezones=zones),
    st.datetimes(timezones=st.just(timezone(timedelta(0)))),  # UTC, but not the singleton
    st.datetimes(timezones=st.just(TzInfo(0))),  # pydantic's UTC
)


def conversion(instant: datetime, tz: ZoneInfo) -> date | type[Exception]:
    try:
        return instant.astimezone(tz).date()
    except (OverflowError, ValueError) as error:
        return type(error)


def outcome(
    function: Callable[[datetime, ZoneInfo], object], instant: datetime, tz: ZoneInfo
) -> object:
    try:
        return function(instant, tz)
    except (OverflowError, ValueError) as error:
        return type(error)


def expected(instant: datetime, tz: ZoneInfo) -> tuple[object, object, object]:
    local = conversion(instant, tz)
    if not isinstance(local, date):
        return local, local, local
    return local, f"{local.year:04d}-{local.month:02d}", local.year


def actual(instant: datetime, tz: ZoneInfo) -> tuple[object, object, object]:
    return (
        outcome(local_date, instant, tz),
        outcome(month_of, instant, tz),
        outcome(year_of, instant, tz),
    )


@settings(max_examples=3000)
@given(instant=utc_instants, tz=zones)
@example(instant=datetime(2026, 1, 31, 17, 30, tzinfo=UTC), tz=ZoneInfo("Asia/Shanghai"))
@example(instant=datetime(2026, 3, 1, 4, 59, tzinfo=UTC), tz=ZoneInfo("America/New_York"))
@example(instant=datetime(2025, 12, 31, 10, 0, tzinfo=UTC), tz=ZoneInfo("Pacific/Kiritimati"))
@example(instant=datetime(1, 1, 1, 5, tzinfo=UTC), tz=ZoneInfo("America/New_York"))
@example(instant=datetime(9999, 12, 31, 20, tzinfo=UTC), tz=ZoneInfo("Asia/Shanghai"))
def test_utc_instants_are_where_the_conversion_puts_them(instant: datetime, tz: ZoneInfo) -> None:
    assert actual(instant, tz) == expected(instant, tz)


@settings(max_examples=1000)
@given(instant=other_instants, tz=zones)
def test_instants_in_other_zones_are_where_the_conversion_puts_them(
    instant: datetime, tz: ZoneInfo
) -> None:
    assert actual(instant, tz) == expected(instant, tz)


@given(day=edge_days, hour=st.integers(0, 23), tz=zones)
def test_the_first_and_last_days_of_a_month_are_converted(
    day: int, hour: int, tz: ZoneInfo
) -> None:
    """The days next to a month's edges, in a year with daylight saving time."""
    for month in range(1, 13):
        try:
            instant = datetime(2026, month, day, hour, 30, tzinfo=UTC)
        except ValueError:
            continue  # no such day in this month
        assert actual(instant, tz) == expected(instant, tz)


def test_fixed_offsets_next_to_a_months_edges_are_converted() -> None:
    """At a fixed offset the shortcut allows a day less on each side than in UTC: every
    day next to a month's edges, at the extreme offsets and between, early and late."""
    offsets = [
        timedelta(hours=h, minutes=m) for h, m in ((-23, -59), (-14, 0), (0, 0), (14, 0), (23, 59))
    ]
    clocks = [time(0, 0), time(0, 1), time(12, 0), time(23, 59)]
    dates = [
        date(2026, month, day)
        for month in range(1, 13)
        for day in (1, 2, 3, 25, 26, 27, 28, 29, 30, 31)
        if day <= (date(2026 + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    ] + [date(1, 1, 1), date(1, 1, 3), date(9999, 12, 31), date(9999, 12, 26)]
    for day in dates:
        for clock in clocks:
            for offset in offsets:
                instant = datetime.combine(day, clock, tzinfo=timezone(offset))
                for tz in ZONES:
                    assert actual(instant, tz) == expected(instant, tz), (instant, tz)


def test_naive_instants_are_still_refused() -> None:
    functions: list[Callable[[datetime, ZoneInfo], object]] = [local_date, month_of, year_of]
    for function in functions:
        with pytest.raises(ValueError, match="naive"):
            function(datetime(2026, 6, 15, 12, 0), ZoneInfo("UTC"))
