"""The rebuild's load stores, on the real PostgreSQL, exactly the facts and identities the
incremental fold stores: its CSV rows (built straight from the msgspec Structs, instants
as the text the events carried) round-trip to the same table contents, whether a chunk
is COPYed straight into the tables or goes through the staging tables (a copy of an
event already loaded by an earlier chunk)."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from typing import Any

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assessment.adapters import bulk_store, versions
from services.assessment.adapters.bulk_decode import decode_chunk
from services.assessment.adapters.db import Connection
from services.assessment.adapters.rebuild_store import PgRebuildStore
from services.assessment.adapters.schema import checked_schema, migrate_control, migrate_projection
from services.assessment.adapters.writer import ProjectionWriter
from services.assessment.domain.policy import load_default_policy
from services.assessment.domain.records import Record
from services.assessment.service_layer.folding import fold, highest_offsets
from services.assessment.service_layer.rebuild_ports import Version
from shared.events import Event
from tests.support.events import to_json
from tests.support.histories import histories

pytestmark = pytest.mark.integration
POLICY = load_default_policy()
TOPIC = "events.v1"
PARTITIONS = 3
RECORDED_AT = (
    "2026-03-01T00:00:00Z",
    "2026-03-01T08:00:00.250000+08:00",
    "2026-02-28T19:00:00.5-05:00",
    "2026-03-01t00:00:00z",  # not canonical: the contract's path in the worker
)
TABLES = {
    "complaint_filings": "source, event_id",
    "complaint_verdicts": "source, event_id",
    "inspections": "source, event_id",
    "findings": "source, event_id, position",
    "commendations": "source, event_id",
    "event_ids": "source, event_id",
}


# Ids may be any visible ASCII: what CSV quotes (a quote, a comma), what COPY's text
# format would escape (a backslash, `\.`), and an apostrophe.
ID_PREFIXES = ("", 'a"b,', "\\.", "x'y\\", '"', ",")
DATA_IDS = ("complaint_id", "inspection_id", "commendation_id")


def with_prefixed_ids(event: dict[str, Any], prefix: str) -> dict[str, Any]:
    data = {k: prefix + v if k in DATA_IDS else v for k, v in event["data"].items()}
    return {**event, "id": prefix + event["id"], "data": data}


def to_records(deliveries: list[tuple[Event, str]], prefix: str) -> list[Record]:
    """Kafka-like: the unit picks the partition; offsets grow per partition."""
    offsets: dict[int, int] = defaultdict(int)
    records = []
    for event, recorded_at in deliveries:
        partition = sum(event.unit_id.encode()) % PARTITIONS
        wire = with_prefixed_ids(to_json(event), prefix)
        value = orjson.dumps({**wire, "recorded_at": recorded_at})
        records.append(Record(TOPIC, partition, offsets[partition], None, value))
        offsets[partition] += 1
    return records


async def tables(conn: Connection, version: Version) -> dict[str, list[Any]]:
    s = checked_schema(version.schema_name)
    return {
        table: [tuple(r) for r in await conn.fetch(f"SELECT * FROM {s}.{table} ORDER BY {key}")]
        for table, key in TABLES.items()
    }


async def load_three_ways(url: str, chunks: list[list[Record]]) -> list[dict[str, list[Any]]]:
    """Into three versions: the rebuild's load, the staging path alone, the live fold."""
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            await migrate_control(conn)
            built = []
            for _ in range(3):
                version = await versions.create_version(conn, policy=POLICY, state="building")
                await migrate_projection(conn, version.schema_name)
                built.append(version)
        loaded, staged, folded = built
        store = PgRebuildStore(pool, lock_url=url)
        writer = ProjectionWriter(pool)
        for chunk in chunks:
            decoded = decode_chunk(
                [r.value for r in chunk],
                ["1"] * len(chunk),
                [(r.partition, r.offset) for r in chunk],
                POLICY.time_zone,
            )
            assert not decoded.conflicts
            assert not decoded.poison
            conflicts = await store.load_facts(loaded, decoded.payloads, highest_offsets(chunk))
            assert not conflicts
            async with writer.version(staged) as tx:
                assert not await bulk_store.load_through_staging(
                    tx.conn, staged.schema_name, decoded.payloads
                )
            async with writer.version(folded) as tx:
                await fold(tx, chunk)
        async with pool.acquire() as conn:
            return [await tables(conn, version) for version in built]
    finally:
        await pool.close()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, data=st.data())
def test_the_rebuilds_load_stores_what_the_incremental_fold_stores(
    scratch_database_url: str, history: list[Event], data: st.DataObject
) -> None:
    retries = data.draw(st.lists(st.sampled_from(history), max_size=4))
    deliveries = [
        (event, data.draw(st.sampled_from(RECORDED_AT)))
        for event in data.draw(st.permutations(history + retries))
    ]
    records = to_records(deliveries, data.draw(st.sampled_from(ID_PREFIXES)))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(records) - 1)), max_size=3)))
    bounds = [0, *cuts, len(records)]
    chunks = [records[a:b] for a, b in itertools.pairwise(bounds) if a < b]

    loaded, staged, folded = asyncio.run(load_three_ways(scratch_database_url, chunks))

    assert loaded == folded
    assert staged == folded
    assert len(loaded["event_ids"]) == len(history)
