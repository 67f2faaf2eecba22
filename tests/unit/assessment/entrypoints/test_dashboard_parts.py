"""The dashboard's pure parts: chart geometry, periods, the roll-up of counts, and the
sign-in's redirect and same-origin rules."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from services.assessment.entrypoints.http.dashboard import auth, charts, data

pytestmark = pytest.mark.unit
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (41, 50), (100, 100), (101, 200)]
)
def test_axis_top_is_a_readable_round_number_at_or_above_the_data(value: float, top: float) -> None:
    assert charts.nice_max(value) == top


def test_columns_are_proportional_and_pair_each_month_with_its_year_before() -> None:
    chart = charts.columns(
        [
            charts.Column("2026-01", 41, {"month": "2026-01"}, ghost=96),
            charts.Column("2026-02", 27, {"month": "2026-02"}, ghost=74),
        ],
        title="t",
    )
    bars = [m for m in chart.marks if m.css == "bar"]
    ghosts = [m for m in chart.marks if m.css == "ghost"]
    assert [b.value for b in bars] == [41, 27]
    assert [g.value for g in ghosts] == [96, 74]
    baseline = {round(m.y + m.height, 6) for m in chart.marks}
    assert len(baseline) == 1, "every bar stands on the same axis"
    assert bars[0].height / ghosts[0].height == pytest.approx(41 / 96)
    assert chart.ticks[-1].text == "100"


def test_rows_leave_room_for_the_cards_and_keep_the_data() -> None:
    chart = charts.rows(
        [charts.Row("qsb/licensing", 6, {"red": "1"}), charts.Row("taxi", 0, {})], title="t"
    )
    assert chart.marks[0].width > 0
    assert chart.marks[1].width == 0
    assert chart.marks[0].data == {"red": "1"}
    assert chart.marks[0].x + chart.marks[0].width + 12 * 11 < chart.width


def test_a_period_is_a_year_or_a_month_and_defaults_to_this_year() -> None:
    today = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # already 2027 in Shanghai
    assert data.period(None, today=today, tz=SHANGHAI) == data.Period("2027", "2027-01", "2027-12")
    assert data.period("2026-03", today=today, tz=SHANGHAI).first == "2026-03"
    with pytest.raises(HTTPException) as refused:
        data.period("2026-13", today=today, tz=SHANGHAI)
    assert refused.value.status_code == 422


def test_a_date_as_of_means_the_end_of_that_day_where_the_organisation_is() -> None:
    moment = data.instant("2026-03-31", tz=SHANGHAI, now=datetime.now(UTC))
    assert moment.astimezone(SHANGHAI).isoformat().startswith("2026-03-31T23:59:59.999999")


def test_counts_of_several_units_add_up() -> None:
    one = {"complaints_filed": {"2026-01": {"category:delay": 2, "channel:web": 2}}}
    two = {"complaints_filed": {"2026-01": {"category:delay": 1, "category:other": 4}}}
    total = data.merge_counts([one, two])
    assert total["complaints_filed"]["2026-01"] == {
        "category:delay": 3,
        "channel:web": 2,
        "category:other": 4,
    }


@pytest.mark.parametrize(
    ("given", "target"),
    [
        ("/dashboard/trend?unit=a", "/dashboard/trend?unit=a"),
        ("//evil.example/", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        (None, "/dashboard"),
    ],
)
def test_sign_in_only_redirects_within_the_service(given: str | None, target: str) -> None:
    assert auth.safe_next(given) == target


def _request(headers: dict[str, str]) -> Request:
    raw = [
        (k.lower().encode(), v.encode()) for k, v in {"host": "127.0.0.1:8081", **headers}.items()
    ]
    scope = {"type": "http", "method": "POST", "scheme": "http", "path": "/", "query_string": b""}
    return Request({**scope, "headers": raw, "server": ("127.0.0.1", 8081)})


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"origin": "http://127.0.0.1:8081"}, True),
        ({"origin": "http://evil.example"}, False),
        ({"origin": "null"}, False),
        ({"referer": "http://127.0.0.1:8081/dashboard/sign-in"}, True),
        ({"referer": "http://evil.example/page"}, False),
        ({}, True),
    ],
)
def test_forms_are_accepted_only_from_this_origin(headers: dict[str, str], allowed: bool) -> None:
    assert auth.same_origin(_request(headers)) is allowed
