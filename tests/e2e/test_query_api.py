"""The read API end to end on the real stack, against figures worked out by hand from
DOMAIN.md for a small history (Asia/Shanghai, default policy)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.assessment_env import AssessmentEnv, caught_up
from tests.support.kafka import publish_recorded
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

BUREAU, METROLOGY, FLEET = "qsb/licensing", "qsb/metrology", "taxi/fleet-1"
COMPLAINANT = {"name": "张女士", "phone": "138-0000-0000"}


def envelope(
    event_id: str, event_type: str, when: str, unit: str, staff: str | None = None, **data: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": event_id,
        "type": event_type,
        "source": "test-src",
        "occurred_at": when,
        "unit_id": unit,
        "data": data,
    }
    if staff:
        event["staff_id"] = staff
    return event


def late(event_id: str, when: str, staff: str) -> dict[str, Any]:
    return envelope(
        event_id,
        "inspection.recorded",
        when,
        BUREAU,
        inspection_id=event_id,
        mode="system",
        inspector="clock",
        findings=[{"code": "late_arrival", "staff_id": staff}],
    )


def absent(event_id: str, when: str, unit: str, staff: str) -> dict[str, Any]:
    return envelope(
        event_id,
        "inspection.recorded",
        when,
        unit,
        inspection_id=event_id,
        mode="open",
        inspector="督查组",
        findings=[{"code": "absent_from_post", "staff_id": staff}],
    )


def filed(
    event_id: str,
    when: str,
    unit: str,
    complaint: str,
    category: str,
    staff: str | None = None,
    handling: str = "study",
) -> dict[str, Any]:
    return envelope(
        event_id,
        "complaint.filed",
        when,
        unit,
        staff,
        complaint_id=complaint,
        channel="hotline",
        category=category,
        handling=handling,
        summary="投诉",
        complainant=COMPLAINANT,
    )


def resolved(
    event_id: str, when: str, unit: str, complaint: str, outcome: str, obstructed: bool = False
) -> dict[str, Any]:
    return envelope(
        event_id,
        "complaint.resolved",
        when,
        unit,
        complaint_id=complaint,
        outcome=outcome,
        obstructed=obstructed,
    )


HISTORY = [
    # E1: four late arrivals in January -> an attendance warning at the 4th (Jan 8).
    *(late(f"late-{d}", f"2026-01-0{d}T08:40:00+08:00", "E1") for d in (5, 6, 7, 8)),
    # E3: a substantiated rude-attitude complaint -> a warning at the verdict (Jan 15).
    filed("f-q1", "2026-01-10T10:00:00+08:00", BUREAU, "Q1", "rude_attitude", staff="E3"),
    resolved("v-q1", "2026-01-15T10:00:00+08:00", BUREAU, "Q1", "substantiated"),
    # E2: absent from post (Jan 20) -> the unit's 3rd warning -> collective warning.
    absent("abs-e2", "2026-01-20T10:00:00+08:00", BUREAU, "E2"),
    # Written in UTC on Jan 31, it is Feb 1 in Shanghai: filed in February; approval =
    # 2 working days from the day after (Mon Feb 2, Tue Feb 3) -> due before Feb 4 00:00.
    filed("f-q2", "2026-01-31T17:30:00Z", BUREAU, "Q2", "delay", handling="approval"),
    # An unfounded verdict on an obstructed investigation: obstruction collective warning,
    # the unit's 2nd collective warning this year -> leadership accountability (Feb 5).
    filed("f-q3", "2026-02-02T09:00:00+08:00", BUREAU, "Q3", "other"),
    resolved("v-q3", "2026-02-05T09:00:00+08:00", BUREAU, "Q3", "unfounded", obstructed=True),
    # Metrology: three warnings -> collective warning; the 3rd overturned on Mar 20.
    absent("abs-e5", "2026-03-01T10:00:00+08:00", METROLOGY, "E5"),
    absent("abs-e6", "2026-03-02T10:00:00+08:00", METROLOGY, "E6"),
    filed("f-q5", "2026-03-03T10:00:00+08:00", METROLOGY, "Q5", "bribery", staff="E7"),
    resolved("v-q5a", "2026-03-04T10:00:00+08:00", METROLOGY, "Q5", "substantiated"),
    resolved("v-q5b", "2026-03-20T10:00:00+08:00", METROLOGY, "Q5", "unfounded"),
    # Taxi fleet: complaints 2 (Jan 2025), 4 (Dec 2025), 1 (Jan 2026).
    *(filed(f"f-y{n}", f"2025-01-1{n}T10:00:00+08:00", FLEET, f"Y{n}", "detour") for n in (1, 2)),
    *(filed(f"f-d{n}", f"2025-12-1{n}T10:00:00+08:00", FLEET, f"D{n}", "refusal")
      for n in range(4)),
    filed("f-j1", "2026-01-14T10:00:00+08:00", FLEET, "J1", "overcharging"),
    envelope("k-1", "commendation.recorded", "2026-01-03T10:00:00+08:00", FLEET, "D7",
             commendation_id="K1", kind="returned_property", summary="拾金不昧"),
    envelope("i-cov", "inspection.recorded", "2026-01-12T22:00:00+08:00", FLEET,
             inspection_id="C1", mode="covert", inspector="暗访组",
             findings=[{"code": "smoking", "staff_id": "D2"}]),
    envelope("i-clean", "inspection.recorded", "2026-01-13T10:00:00+08:00", FLEET,
             inspection_id="C2", mode="open", inspector="明查组", findings=[]),
]  # fmt: skip


@pytest.fixture
async def api(assessment_env: AssessmentEnv) -> AsyncIterator[httpx.AsyncClient]:
    await assessment_env.create_topics()
    await publish_recorded(assessment_env.kafka, assessment_env.topics.events, HISTORY)
    service = assessment_env.start().wait_ready()
    async with assessment_env.client(service) as client:
        await wait_for(lambda: caught_up(client, len(HISTORY)), timeout=60, what="catch-up")
        yield client


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    answer = await client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert "张女士" not in answer.text, "personal data leaked"
    assert "138-0000" not in answer.text, "personal data leaked"
    return answer.json()


async def test_every_endpoint_answers_as_the_contract_says(api: httpx.AsyncClient) -> None:
    await check_staff_warnings(api)
    await check_unit_alerts(api)
    await check_stats(api)
    await check_scorecard(api)
    await check_paged_lists(api)
    await check_overdue(api)
    await check_watchlist(api)
    await check_status_and_ops(api)


async def check_staff_warnings(api: httpx.AsyncClient) -> None:
    e1 = await get(api, "/v1/staff/E1/warnings")
    (warning,) = e1["items"]
    assert set(warning) >= {"id", "staff_id", "unit_id", "rule", "period", "issued_at",
                            "evidence", "status", "policy_version"}  # fmt: skip
    assert (warning["rule"], warning["unit_id"], warning["period"]) == (
        "attendance",
        BUREAU,
        "2026-01",
    )
    assert warning["issued_at"] == "2026-01-08T00:40:00Z"
    assert warning["evidence"] == ["late-5", "late-6", "late-7", "late-8"]
    assert (warning["status"], warning["policy_version"]) == ("active", "2026.1")
    e7 = await get(api, "/v1/staff/E7/warnings", status="all")
    assert [(w["rule"], w["status"]) for w in e7["items"]] == [("bribery", "revoked")]
    assert e7["items"][0]["revoked_at"] == "2026-03-20T02:00:00Z"
    assert (await get(api, "/v1/staff/E7/warnings"))["items"] == [], "active is the default"
    assert (await get(api, "/v1/staff/E1/warnings", year=2025))["items"] == []


async def check_unit_alerts(api: httpx.AsyncClient) -> None:
    encoded = await get(api, "/v1/units/qsb%2Flicensing/alerts", year=2026)
    raw = await get(api, "/v1/units/qsb/licensing/alerts", year=2026)
    assert encoded["items"] == raw["items"]
    got = sorted((a["rule"], a["level"], a["issued_at"]) for a in encoded["items"])
    assert got == [
        ("accumulated_warnings", "collective_warning", "2026-01-20T02:00:00Z"),
        ("leadership_accountability", "leadership", "2026-02-05T01:00:00Z"),
        ("obstruction", "collective_warning", "2026-02-05T01:00:00Z"),
    ]
    metrology = await get(api, f"/v1/units/{METROLOGY}/alerts", status="all")
    assert [(a["rule"], a["status"]) for a in metrology["items"]] == [
        ("accumulated_warnings", "revoked")
    ]


async def check_stats(api: httpx.AsyncClient) -> None:
    fleet = await get(api, "/v1/units/taxi%2Ffleet-1/stats", **{"from": "2026-01", "to": "2026-02"})
    january, february = fleet["months"]
    assert (january["month"], february["month"]) == ("2026-01", "2026-02")
    assert january["complaints_filed"] == 1
    assert january["change"]["complaints_filed"] == {"mom": -75.0, "yoy": -50.0}
    assert (january["inspections"], january["clean_inspections"], january["findings"]) == (2, 1, 1)
    assert january["findings_by_code"] == {"smoking": 1}
    assert january["commendations_by_kind"] == {"returned_property": 1}
    assert february["complaints_filed"] == 0
    assert february["change"]["complaints_filed"] == {"mom": -100.0, "yoy": None}
    assert february["change"]["inspections"] == {"mom": -100.0, "yoy": None}

    bureau = await get(api, f"/v1/units/{BUREAU}/stats", **{"from": "2026-01", "to": "2026-02"})
    january, february = bureau["months"]
    assert january["complaints_filed"] == 1, "Q2, written on Jan 31 UTC, is February's"
    assert february["complaints_filed"] == 2
    assert january["complaints_substantiated"] == 1
    assert february["complaints_unfounded"] == 1
    assert february["complaints_overdue"] == 1, "Q2: due before Feb 4, never resolved"
    assert january["warnings"] == 3
    assert january["warnings_by_rule"] == {"attendance": 1, "rude_attitude": 1,
                                           "absence_from_post": 1}  # fmt: skip
    assert (january["collective_warnings"], february["collective_warnings"]) == (1, 1)
    empty = await get(api, f"/v1/units/{BUREAU}/stats", **{"from": "2025-06", "to": "2025-08"})
    assert [m["month"] for m in empty["months"]] == ["2025-06", "2025-07", "2025-08"]
    assert all(m["complaints_filed"] == 0 and m["warnings"] == 0 for m in empty["months"])


async def check_scorecard(api: httpx.AsyncClient) -> None:
    card = await get(api, "/v1/staff/E1/scorecard", year=2026)
    january = card["months"][0]
    assert (january["warnings"], january["findings"]) == (1, 4)
    assert (january["score"], january["stars"]) == (60, 2)  # 100 - 20 - 4 x 5
    assert card["months"][1]["stars"] == 5
    assert card["award_eligible"] is False
    d7 = await get(api, "/v1/staff/D7/scorecard", year=2026)
    assert d7["months"][0]["commendations"] == 1
    assert d7["award_eligible"] is True
    e7 = await get(api, "/v1/staff/E7/scorecard", year=2026)
    assert e7["award_eligible"] is True, "a revoked warning does not count"


async def check_paged_lists(api: httpx.AsyncClient) -> None:
    first = await get(api, "/v1/warnings", unit_id=BUREAU, limit=2)
    assert len(first["items"]) == 2
    second = await get(api, "/v1/warnings", unit_id=BUREAU, limit=2, cursor=first["next_cursor"])
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    ids = [w["id"] for w in first["items"] + second["items"]]
    assert len(set(ids)) == 3
    assert [w["rule"] for w in (await get(api, "/v1/warnings", rule="bribery"))["items"]] == [
        "bribery"
    ]
    assert (await get(api, "/v1/warnings", rule="bribery", status="active"))["items"] == []
    march = await get(api, "/v1/warnings", **{"from": "2026-03", "to": "2026-03"})
    assert {w["unit_id"] for w in march["items"]} == {METROLOGY}
    involving_e1 = await get(api, "/v1/alerts", staff_id="E1")
    assert [a["rule"] for a in involving_e1["items"]] == ["accumulated_warnings"]
    leadership = await get(api, "/v1/alerts", rule="leadership_accountability")
    assert [a["unit_id"] for a in leadership["items"]] == [BUREAU]


async def check_overdue(api: httpx.AsyncClient) -> None:
    before = await get(
        api, "/v1/complaints/overdue", as_of="2026-02-03T23:59:00+08:00", unit_id=BUREAU
    )
    after = await get(api, "/v1/complaints/overdue", as_of="2026-02-04T00:00:00+08:00",
                      unit_id=BUREAU)  # fmt: skip
    assert before["items"] == []
    assert [c["complaint_id"] for c in after["items"]] == ["Q2"]
    assert after["items"][0]["deadline"] == "2026-02-03T16:00:00Z"


async def check_watchlist(api: httpx.AsyncClient) -> None:
    jan7 = await get(api, "/v1/watchlist", as_of="2026-01-07T18:00:00+08:00")
    assert [(s["staff_id"], s["attendance_findings"]) for s in jan7["staff"]] == [("E1", 3)]
    jan16 = await get(api, "/v1/watchlist", as_of="2026-01-16T00:00:00+08:00", unit_id=BUREAU)
    assert jan16["staff"] == []
    assert [(u["unit_id"], u["active_warnings"]) for u in jan16["units"]] == [(BUREAU, 2)]
    # Metrology held three warnings on Mar 10; the third was overturned on Mar 20.
    mar10 = await get(api, "/v1/watchlist", as_of="2026-03-10T00:00:00Z", unit_id=METROLOGY)
    mar25 = await get(api, "/v1/watchlist", as_of="2026-03-25T00:00:00Z", unit_id=METROLOGY)
    assert mar10["units"] == []
    assert [(u["unit_id"], u["active_warnings"]) for u in mar25["units"]] == [(METROLOGY, 2)]


async def check_status_and_ops(api: httpx.AsyncClient) -> None:
    status = await get(api, "/v1/status")
    assert (status["projection_version"], status["policy_version"]) == (1, "2026.1")
    assert status["lag"] == 0
    positions = [p["position"] for p in status["partitions"] if p["position"] is not None]
    assert sum(position + 1 for position in positions) == len(HISTORY)
    assert (await api.get("/healthz")).status_code == 200
    assert (await api.get("/readyz")).status_code == 200
    assert "assessment_records_total" in (await api.get("/metrics")).text


async def test_reads_need_a_read_token(api: httpx.AsyncClient) -> None:
    anonymous = await api.get("/v1/status", headers={"Authorization": ""})
    wrong = await api.get("/v1/status", headers={"Authorization": "Bearer nope"})
    assert anonymous.status_code == wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


BAD_PARAMETERS = [
    # (path, params, field, words the reason must contain)
    ("/v1/staff/E1/warnings", {"status": "bogus"}, "status", "active"),
    ("/v1/staff/E1/warnings", {"year": "last"}, "year", "integer"),
    ("/v1/units/x/stats", {"from": "2026-13"}, "from", "YYYY-MM"),
    ("/v1/units/x/stats", {"from": "2026-05", "to": "2026-01"}, "from", "after"),
    ("/v1/units/x/stats", {"from": "2000-01", "to": "2026-01"}, "to", "120 months"),
    ("/v1/warnings", {"limit": "501"}, "limit", "500"),
    ("/v1/warnings", {"cursor": "garbage"}, "cursor", "cursor"),
    ("/v1/warnings", {"rule": "smoking"}, "rule", "attendance"),
    ("/v1/alerts", {"from": "yesterday"}, "from", "RFC 3339"),
    ("/v1/complaints/overdue", {"as_of": "2026-02-04T00:00:00"}, "as_of", "offset"),
    ("/v1/watchlist", {"as_of": "2026-02-04T00:00:00 08:00"}, "as_of", "%2B"),
]


async def test_bad_query_parameters_get_422_with_the_reason(api: httpx.AsyncClient) -> None:
    for path, params, field, reason in BAD_PARAMETERS:
        answer = await api.get(path, params=params)
        assert answer.status_code == 422, (path, params, answer.text)
        problems = [p for p in answer.json()["detail"] if p["loc"][-1] == field]
        assert problems, (path, params, answer.text)
        assert reason in problems[0]["msg"], (path, params, problems)
