"""Nothing that reaches events.v1 can stop the fold (issue 9), on the real broker and
database: records that used to stall it are parked with a reason while their
partition goes on; a (source, id) reused across types counts once, live and in a
rebuild; a stalled fold shows on /readyz and /metrics at once."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from services.assessment.adapters.kafka_log import HistoryReader
from services.assessment.bootstrap import rebuild_ports, rebuild_workers
from services.assessment.domain.policy import load_default_policy
from services.assessment.service_layer.rebuild import rebuild
from shared import topics
from tests.support.assessment_env import AssessmentEnv, caught_up, oracle
from tests.support.kafka import publish_raw, publish_recorded
from tests.support.projections import live_schema, read_projection
from tests.support.topics import read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

UNIT = "qsb/licensing"


def commendation(event_id: str, *, unit: str = UNIT, at: str = "2026-03-02T09:00:00+08:00",
                 **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "id": event_id,
        "type": "commendation.recorded",
        "source": "hr-awards",
        "occurred_at": at,
        "unit_id": unit,
        "staff_id": "E1",
        "data": {"commendation_id": f"K-{event_id}", "kind": "bravery", "summary": "见义勇为"},
        **extra,
    }


def filing(event_id: str, *, unit: str, recorded_at: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "complaint.filed",
        "source": "hr-awards",
        "occurred_at": "2026-03-02T09:00:00+08:00",
        "unit_id": unit,
        "staff_id": "E1",
        "recorded_at": recorded_at,
        "data": {
            "complaint_id": f"Q-{event_id}",
            "channel": "hotline",
            "category": "rude_attitude",
            "summary": "态度生硬",
        },
    }


def raw(event: dict[str, Any]) -> bytes:
    return orjson.dumps({"recorded_at": "2026-11-01T00:00:00Z", **event})


# Each would have stalled or crashed the fold before issue 9; all on one partition.
BREAKERS: dict[str, tuple[bytes, str]] = {
    "year 1": (raw(commendation("p-1", at="0001-01-01T00:00:00Z")), "invalid"),
    "year 1 with offset": (raw(commendation("p-2", at="0001-01-01T00:30:00+01:00")), "invalid"),
    "year 9999, -14:00": (raw(commendation("p-3", at="9999-12-31T23:59:59-14:00")), "unstorable"),
    "offset beyond 14h": (raw(commendation("p-4", at="2026-01-01T00:00:00+15:00")), "invalid"),
    "recorded_at year 1": (
        raw(commendation("p-5", recorded_at="0001-01-01T00:30:00+01:00")),
        "unstorable",
    ),
    "garbage": (b"\x00\xff{{{", "unparseable"),
    "wrong types": (raw({**commendation("p-6"), "occurred_at": 12, "staff_id": []}), "invalid"),
    "NUL in an id": (raw(commendation("p-\u00007")), "invalid"),
    "NUL in a unit": (raw(commendation("p-8", unit="a\u0000b")), "invalid"),
    "huge text": (raw({**commendation("p-9"), "data": {
        "commendation_id": "K", "kind": "other", "summary": "长" * 300_000}}), "invalid"),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "unparseable"),
    "not an object": (b'"just a string"', "invalid"),
    "empty": (b"", "empty"),
}  # fmt: skip


async def metric(client: httpx.AsyncClient, name: str, labels: str = "") -> float:
    wanted = f"{name}{{{labels}}}" if labels else name
    total = 0.0
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith(wanted + " ") or (not labels and line.startswith(name + "{")):
            total += float(line.split()[-1])
    return total


async def parked(url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(
            "SELECT origin_partition, origin_offset, reason, error, source, event_id, raw"
            " FROM assessment.deadletters ORDER BY origin_partition, origin_offset"
        )
    finally:
        await conn.close()


async def test_records_that_broke_the_fold_are_parked_while_their_partition_goes_on(
    assessment_env: AssessmentEnv,
) -> None:
    await assessment_env.create_topics()
    kafka, events_topic = assessment_env.kafka, assessment_env.topics.events
    before = commendation("before")
    await publish_recorded(kafka, events_topic, [before], partition=0)
    for value, _ in BREAKERS.values():
        await publish_raw(kafka, events_topic, value, key=UNIT.encode())
    canary = commendation("canary")
    await publish_recorded(kafka, events_topic, [canary], partition=0)
    service = assessment_env.start().wait_ready()
    total = 2 + len(BREAKERS)

    async with assessment_env.client(service) as client:
        await wait_for(lambda: caught_up(client, total), timeout=60, what="catch-up")
        assert (await client.get("/readyz")).status_code == 200
        dead_total = await metric(client, "assessment_deadletters_total")
        page = (await client.get("/v1/deadletters", params={"limit": 5})).json()
        rest = {"limit": 500, "cursor": page["next_cursor"]}
        second = (await client.get("/v1/deadletters", params=rest)).json()
        invalid_only = (await client.get("/v1/deadletters", params={"reason": "invalid"})).json()

    rows = await parked(assessment_env.database_url)
    assert sorted(r["reason"] for r in rows) == sorted(reason for _, reason in BREAKERS.values())
    assert {r["origin_partition"] for r in rows} == {0}
    assert [r["raw"] for r in rows] == [value for value, _ in BREAKERS.values()]
    assert dead_total == len(BREAKERS)
    listed = page["items"] + second["items"]
    assert [item["id"] for item in listed] == sorted(item["id"] for item in listed)
    assert len(listed) == len(BREAKERS)
    assert second["next_cursor"] is None
    assert {item["reason"] for item in invalid_only["items"]} == {"invalid"}
    assert all("data" not in item and "raw" not in item for item in listed)

    dead = await read_topic(kafka, assessment_env.topics.assessment_deadletter)
    assert len(dead) == len(BREAKERS)
    for record in dead:
        origin = record.header(topics.HEADER_DLQ_ORIGIN).decode()
        assert origin.startswith(f"{events_topic}/0/")
        assert record.header(topics.HEADER_DLQ_TOPIC) == events_topic.encode()
        assert record.header(topics.HEADER_DLQ_OFFSET) == origin.rsplit("/", 1)[1].encode()
        assert record.header(topics.HEADER_DLQ_REASON).decode() in {r for _, r in BREAKERS.values()}
        assert orjson.loads(record.header(topics.HEADER_DLQ_ERRORS))

    conn = await asyncpg.connect(assessment_env.database_url)
    try:
        schema = await live_schema(conn)
        folded = await conn.fetch(f"SELECT event_id FROM {schema}.commendations ORDER BY 1")
        projection = (await read_projection(conn, schema)).rows()
    finally:
        await conn.close()
    assert [r["event_id"] for r in folded] == ["before", "canary"]
    expected = oracle([before, canary])
    assert projection == (list(expected.warnings), list(expected.alerts), list(expected.complaints))


async def test_a_pair_reused_across_types_counts_once_live_and_in_a_rebuild(
    assessment_env: AssessmentEnv,
) -> None:
    """The later copy arrives first (another partition) and is folded; then the earlier
    one arrives: it displaces the folded copy. The rebuild decides the same."""
    await assessment_env.create_topics()
    kafka, events_topic = assessment_env.kafka, assessment_env.topics.events
    later = commendation("dup-1", unit="taxi/fleet-2", recorded_at="2026-11-01T10:00:00Z")
    earlier = filing("dup-1", unit="qsb/licensing", recorded_at="2026-11-01T09:00:00Z")
    same_type_later = {**commendation("dup-2"), "recorded_at": "2026-11-01T12:00:00Z"}
    same_type_first = {
        **commendation("dup-2", at="2026-03-03T09:00:00+08:00"),
        "recorded_at": "2026-11-01T11:00:00Z",
    }
    retry = {**same_type_first, "recorded_at": "2026-11-01T13:00:00Z"}  # same content
    service = assessment_env.start().wait_ready()
    await publish_recorded(kafka, events_topic, [later], partition=1)
    await publish_recorded(kafka, events_topic, [same_type_first], partition=0)

    async with assessment_env.client(service) as client:
        await wait_for(lambda: caught_up(client, 2), timeout=60, what="the later copy folded")
        await publish_recorded(kafka, events_topic, [earlier], partition=2)
        await publish_recorded(kafka, events_topic, [same_type_later, retry], partition=0)
        await wait_for(lambda: caught_up(client, 5), timeout=60, what="the earlier copy folded")
        conflicts = await metric(client, "assessment_conflicting_duplicates_total")
        dead = await metric(client, "assessment_deadletters_total",
                            'reason="conflicting_duplicate"')  # fmt: skip

    assert conflicts == 2  # the displaced commendation, the later dup-2
    assert dead == 2
    url = assessment_env.database_url
    live = await fact_counts(url)
    assert live["complaint_filings"] == ["dup-1"]
    assert live["commendations"] == ["dup-2"]
    assert live["occurred"] == ["2026-03-03"]  # the first dup-2 by log position stands

    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    assert pool is not None
    reader = HistoryReader(kafka=kafka, topic=events_topic, batch_records=1000)
    await reader.start()
    try:
        with rebuild_workers() as workers:  # spawned: this test runs under an event loop
            report = await rebuild(
                ports=rebuild_ports(pool, database_url=url),
                reader=reader,
                pool=workers,
                policy=load_default_policy(),
                changes_topic=assessment_env.topics.assessment_changes,
            )
    finally:
        await reader.stop()
        await pool.close()
    assert report.poison == 2
    assert await fact_counts(url) == live
    conn = await asyncpg.connect(url)
    try:
        old = await read_projection(conn, f"proj_v{report.previous_version}")
        new = await read_projection(conn, f"proj_v{report.version}")
    finally:
        await conn.close()
    assert new.rows() == old.rows()
    assert new.events == old.events
    assert new.warnings == []  # filed, no verdict yet
    assert [c.complaint_id for c in new.complaints] == ["Q-dup-1"]


async def fact_counts(url: str) -> dict[str, list[str]]:
    conn = await asyncpg.connect(url)
    try:
        s = await live_schema(conn)
        return {
            "complaint_filings": [
                r[0] for r in await conn.fetch(f"SELECT event_id FROM {s}.complaint_filings")
            ],
            "commendations": [
                r[0] for r in await conn.fetch(f"SELECT event_id FROM {s}.commendations")
            ],
            "occurred": [
                str(r[0])
                for r in await conn.fetch(
                    f"SELECT (occurred_at AT TIME ZONE 'Asia/Shanghai')::date"
                    f" FROM {s}.commendations"
                )
            ],
        }
    finally:
        await conn.close()


async def test_a_stalled_fold_shows_on_readyz_and_metrics_and_recovers(
    assessment_env: AssessmentEnv,
) -> None:
    await assessment_env.create_topics()
    kafka, events_topic = assessment_env.kafka, assessment_env.topics.events
    service = assessment_env.start(extra={"ASSESSMENT_FOLD_STALL_S": "3"}).wait_ready()
    await publish_recorded(kafka, events_topic, [commendation("s-1")], partition=0)
    name = assessment_env.database_url.rpartition("/")[2]
    admin_url = assessment_env.database_url.rpartition("/")[0] + "/postgres"

    async with assessment_env.client(service) as client:
        await wait_for(lambda: caught_up(client, 1), timeout=60, what="first fold")
        admin = await asyncpg.connect(admin_url)
        try:
            # The database becomes unreachable for the service (every new connection
            # refused, the open ones cut), while Kafka keeps taking events.
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            await publish_recorded(kafka, events_topic, [commendation("s-2")], partition=0)
            stalled_at = time.monotonic()

            async def readyz() -> httpx.Response:
                return await client.get("/readyz")

            answer = await wait_for(
                readyz,
                until=lambda r: r.status_code == 503 and "fold_stalled" in r.text,
                timeout=60,
                what="/readyz 503 naming the stalled fold",
            )
            seen_after = time.monotonic() - stalled_at
            failures = await metric(client, "assessment_fold_failures_total", 'kind="transient"')
            retries = await metric(client, "assessment_fold_retries_total")
            since = await metric(client, "assessment_seconds_since_last_fold")
            lag = await wait_for(
                lambda: metric(
                    client,
                    "assessment_partition_lag_records",
                    f'partition="0",topic="{events_topic}"',
                ),
                until=lambda value: value >= 1,
                timeout=30,
                what="lag on partition 0",
            )
            lag_seconds = await metric(
                client, "assessment_partition_lag_seconds", f'partition="0",topic="{events_topic}"'
            )
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await admin.close()

        assert "problems" in answer.json()
        assert failures >= 1
        assert retries >= 1
        assert since >= 3
        assert lag == 1
        assert lag_seconds >= 1
        assert seen_after < 3 + 30  # the threshold plus a retry's backoff, at most

        await wait_for(lambda: caught_up(client, 2), timeout=60, what="recovery")
        await wait_for(readyz, until=lambda r: r.status_code == 200, timeout=30, what="ready again")
        status = (await client.get("/v1/status")).json()
    assert status["fold"]["healthy"] is True
