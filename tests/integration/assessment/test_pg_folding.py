"""The PostgreSQL store folds exactly like the pure oracle: the same property as the
unit test, on the real database (fewer examples: each gets a fresh schema). The ranking's
counts, which the database keeps as the fold writes, equal those counted afresh."""

from __future__ import annotations

import asyncio
import itertools

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assessment.adapters.writer import ProjectionWriter
from services.assessment.domain.policy import load_default_policy
from services.assessment.service_layer.folding import fold
from shared.events import Event
from tests.support.histories import histories
from tests.support.projections import migrated_version, ranking_counts, read_projection
from tests.unit.assessment.service_layer.test_folding_properties import oracle_of, to_records

pytestmark = pytest.mark.integration
POLICY = load_default_policy()


async def fold_into_new_version(
    url: str, batches: list[list[object]]
) -> tuple[tuple[object, ...], tuple[list[tuple[object, ...]], ...]]:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            version = await migrated_version(conn, policy=POLICY, state="building")
        writer = ProjectionWriter(pool)
        for batch in batches:
            async with writer.version(version) as tx:
                await fold(tx, batch)  # type: ignore[arg-type]
        async with pool.acquire() as conn:
            rows = (await read_projection(conn, version.schema_name)).rows()
            return rows, await ranking_counts(conn, version.schema_name)
    finally:
        await pool.close()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, data=st.data())
def test_postgres_store_folds_like_the_oracle(
    scratch_database_url: str, history: list[Event], data: st.DataObject
) -> None:
    duplicates = data.draw(st.lists(st.sampled_from(history), max_size=3))
    records = to_records(data.draw(st.permutations(history + duplicates)))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(records) - 1)), max_size=4)))
    bounds = [0, *cuts, len(records)]
    batches = [records[a:b] for a, b in itertools.pairwise(bounds) if a < b]
    batches.append(batches[0])  # a redelivered batch

    stored, (kept, counted) = asyncio.run(fold_into_new_version(scratch_database_url, batches))  # type: ignore[arg-type]

    assert stored == oracle_of(history)
    assert kept == counted  # the ranking's counts, kept by the database as it folds
