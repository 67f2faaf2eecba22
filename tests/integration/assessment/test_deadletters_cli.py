"""`assessment deadletters list|retry` on the real stack: parked records are listed with
their reason and without their data; a retry after a fix folds them, once."""

from __future__ import annotations

import asyncpg
import orjson
import pytest

from tests.support.assessment_env import AssessmentEnv, caught_up
from tests.support.kafka import publish_raw, publish_recorded
from tests.support.projections import live_schema
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def commendation(event_id: str, summary: str) -> dict[str, object]:
    return {
        "id": event_id,
        "type": "commendation.recorded",
        "source": "hr-awards",
        "occurred_at": "2026-03-02T09:00:00+08:00",
        "unit_id": "taxi/fleet-1",
        "recorded_at": "2026-11-01T00:00:00Z",
        "data": {"commendation_id": f"K-{event_id}", "kind": "bravery", "summary": summary},
    }


async def deadletters(env: AssessmentEnv, *args: str) -> str:
    """`assessment deadletters <args>`'s output (wide: a table's rows on one line each)."""
    done = await env.cli("deadletters", *args, extra={"COLUMNS": "250"}, seconds=120)
    return done.stdout


async def test_parked_records_are_listed_and_a_retry_after_a_fix_folds_them_once(
    assessment_env: AssessmentEnv,
) -> None:
    await assessment_env.create_topics()
    topic = assessment_env.topics.events
    # Sent by an old producer with a schema-version header this build does not know:
    # parked as unsupported_version. The "fix": its bytes are a valid v1 event.
    private = commendation("r-1", "张女士 138-0000-0000 secret")
    await publish_raw(
        assessment_env.kafka,
        topic,
        orjson.dumps(private),
        key=b"taxi/fleet-1",
        headers=[("schema-version", b"2")],
    )
    await publish_raw(assessment_env.kafka, topic, b"\xffgarbage", key=b"taxi/fleet-1")
    await publish_recorded(assessment_env.kafka, topic, [commendation("r-2", "ok")])
    service = assessment_env.start().wait_ready()
    async with assessment_env.client(service) as client:
        await wait_for(lambda: caught_up(client, 3), timeout=60, what="catch-up")

    listed = await deadletters(assessment_env, "list")
    assert "unsupported_version" in listed
    assert "unparseable" in listed
    assert "secret" not in listed
    only = await deadletters(assessment_env, "list", "--reason", "unparseable")
    assert "unsupported_version" not in only

    # The fix: the operator strips the unknown header (here: the parked copy's
    # reason is what a retry re-checks; its stored bytes decode as v1).
    first = await deadletters(assessment_env, "retry", "--reason", "unsupported_version")
    again = await deadletters(assessment_env, "retry", "--reason", "unsupported_version")
    garbage = await deadletters(assessment_env, "retry", "--reason", "unparseable")

    assert "1 folded" in first
    assert "nothing to do" in again
    assert "1 still_parked" in garbage
    conn = await asyncpg.connect(assessment_env.database_url)
    try:
        schema = await live_schema(conn)
        folded = await conn.fetch(f"SELECT event_id FROM {schema}.commendations ORDER BY 1")
        outcomes = await conn.fetch(
            "SELECT reason, retry_outcome FROM assessment.deadletters ORDER BY reason"
        )
    finally:
        await conn.close()
    assert [r["event_id"] for r in folded] == ["r-1", "r-2"]  # r-1 once
    assert [tuple(r) for r in outcomes] == [
        ("unparseable", "still_parked"),
        ("unsupported_version", "folded"),
    ]
