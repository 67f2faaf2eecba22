"""Contract-valid events at the extremes, through intake (HTTP) → Kafka → assessment:
each accepted one is folded or dead-lettered with a reason, and a canary on every
partition becomes visible afterwards (nothing stalls behind them)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.test_pipeline import TOKEN, intake_process
from tests.support.assessment_env import AssessmentEnv
from tests.support.kafka import publish_recorded
from tests.support.projections import live_schema
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

VISIBLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
UNIT_CHARS = st.sampled_from("ABCxyz019._:/-")
ANY_TEXT = st.characters(codec="utf-8")  # any Unicode the contract allows, U+0000 included
SERIAL = itertools.count()


def instants() -> st.SearchStrategy[str]:
    """RFC 3339 text at the time bounds, with extreme offsets and sub-microsecond digits."""
    now = datetime.now(UTC).replace(microsecond=0)
    bounds = st.sampled_from([
        "2000-01-01T00:00:00Z",
        "2000-01-01T14:00:00+14:00",
        "1999-12-31T12:00:00-12:00",
        "2000-01-01T00:00:00.000000001Z",
        (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.123456789+00:00"),
        "2026-02-28T23:59:59.9999999-14:00",
        "2024-02-29T12:00:00+05:45",
        "2025-12-31T23:59:59.999999+14:00",
    ])  # fmt: skip
    latest_day = (now - datetime(2000, 1, 1, tzinfo=UTC)).days - 1
    drawn = st.builds(
        _rfc3339,
        st.integers(0, latest_day),
        st.integers(0, 86_399),
        st.integers(-14 * 60, 14 * 60),
        st.one_of(st.just(""), st.from_regex(r"\A[0-9]{1,12}\Z")),
    )
    return st.one_of(bounds, drawn)


def _rfc3339(day: int, second: int, offset_minutes: int, digits: str) -> str:
    instant = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(days=day, seconds=second)
    local = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    sign, minutes = ("+" if offset_minutes >= 0 else "-"), abs(offset_minutes)
    fraction = f".{digits}" if digits else ""
    return f"{local:%Y-%m-%dT%H:%M:%S}{fraction}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def envelope(event_type: str, data: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "type": st.just(event_type),
            "source": st.text("abz09._-", min_size=1, max_size=64),
            "occurred_at": instants(),
            "unit_id": st.text(UNIT_CHARS, min_size=1, max_size=64),
            "data": data,
        },
        optional={"staff_id": st.text(UNIT_CHARS, min_size=1, max_size=64)},
    )


def business_ids() -> st.SearchStrategy[str]:
    return st.one_of(st.text(VISIBLE, min_size=1, max_size=128), st.just("Q-SHARED"))


EVENTS = st.one_of(
    envelope("complaint.filed", st.fixed_dictionaries({
        "complaint_id": business_ids(),
        "channel": st.sampled_from(["phone", "web"]),
        "category": st.sampled_from(["delay", "bribery", "other"]),
        "summary": st.text(ANY_TEXT, min_size=1, max_size=4000),
    }, optional={"complainant": st.fixed_dictionaries({}, optional={
        "name": st.text(ANY_TEXT, min_size=1, max_size=100)})})),
    # A verdict for an unknown complaint, or before its filing.
    envelope("complaint.resolved", st.fixed_dictionaries({
        "complaint_id": business_ids(),
        "outcome": st.sampled_from(["substantiated", "unfounded", "withdrawn"]),
    }, optional={"obstructed": st.booleans()})),
    envelope("inspection.recorded", st.fixed_dictionaries({
        "inspection_id": business_ids(),
        "mode": st.sampled_from(["open", "covert", "system"]),
        "inspector": st.text(ANY_TEXT, min_size=1, max_size=128),
        "findings": st.lists(st.fixed_dictionaries({
            "code": st.sampled_from(["late_arrival", "absent_from_post"]),
        }, optional={"staff_id": st.text(UNIT_CHARS, min_size=1, max_size=64),
                     "unit_wide": st.booleans(),
                     "note": st.text(ANY_TEXT, max_size=1000)}), max_size=5),
    })),
    envelope("commendation.recorded", st.fixed_dictionaries({
        "commendation_id": business_ids(),
        "kind": st.sampled_from(["bravery", "other"]),
        "summary": st.text(ANY_TEXT, min_size=1, max_size=4000),
    })),
)  # fmt: skip


async def standing_or_parked(url: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    conn = await asyncpg.connect(url)
    try:
        schema = await live_schema(conn)
        sources, ids = [k[0] for k in keys], [k[1] for k in keys]
        found = {
            (r["source"], r["event_id"]): "folded"
            for r in await conn.fetch(
                f"SELECT source, event_id FROM {schema}.event_ids"
                " JOIN unnest($1::text[], $2::text[]) AS k (source, event_id)"
                " USING (source, event_id)",
                sources,
                ids,
            )
        }
        for r in await conn.fetch(
            "SELECT source, event_id, reason FROM assessment.deadletters"
            " JOIN unnest($1::text[], $2::text[]) AS k (source, event_id)"
            " USING (source, event_id)",
            sources,
            ids,
        ):
            found.setdefault((r["source"], r["event_id"]), f"parked:{r['reason']}")
        return found
    finally:
        await conn.close()


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.lists(EVENTS, min_size=1, max_size=6), reuse=st.data())
def test_extreme_events_are_folded_or_parked_and_every_partition_goes_on(
    running: tuple[AssessmentEnv, int, int], events: list[dict[str, Any]], reuse: st.DataObject
) -> None:
    asyncio.run(_example(running, events, reuse))


async def _example(
    running: tuple[AssessmentEnv, int, int], events: list[dict[str, Any]], reuse: st.DataObject
) -> None:
    env, intake_port, _ = running
    example = next(SERIAL)
    for n, event in enumerate(events):
        event["id"] = f"x{example}-{n}"
    # Reused ids: the same pair again, with the same content (a retry) or other content.
    for event in reuse.draw(st.lists(st.sampled_from(events), max_size=2), label="reused"):
        events.append({**event, "occurred_at": "2025-06-01T00:00:00+08:00"})
        events.append(dict(event))
    accepted: list[tuple[str, str]] = []
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{intake_port}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    ) as client:
        for event in events:
            answer = await client.post("/v1/events", json=event)
            assert answer.status_code in {202, 409, 422}, answer.text
            if answer.status_code == 202:
                accepted.append((event["source"], event["id"]))
            elif answer.status_code == 422:
                assert answer.json()["errors"], answer.text

    canaries = [
        {"id": f"canary-{example}-{p}", "type": "commendation.recorded", "source": "canary",
         "occurred_at": "2026-01-01T00:00:00Z", "unit_id": f"canary/{p}",
         "data": {"commendation_id": f"C{p}", "kind": "other", "summary": "canary"}}
        for p in range(3)
    ]  # fmt: skip
    for partition, canary in enumerate(canaries):
        await publish_recorded(env.kafka, env.topics.events, [canary], partition=partition)
    canary_keys = [("canary", str(c["id"])) for c in canaries]
    await wait_for(
        lambda: standing_or_parked(env.database_url, canary_keys),
        until=lambda found: all(found.get(k) == "folded" for k in canary_keys),
        timeout=60,
        what="a canary folded on every partition",
    )
    outcome = await standing_or_parked(env.database_url, accepted)
    missing = [key for key in accepted if key not in outcome]
    assert not missing, f"accepted but neither folded nor parked: {missing}"


@pytest.fixture
def running(assessment_env: AssessmentEnv) -> tuple[AssessmentEnv, int, int]:
    asyncio.run(assessment_env.create_topics())
    intake = intake_process(assessment_env).wait_ready()
    assessment = assessment_env.start().wait_ready()
    return assessment_env, intake.port, assessment.port
