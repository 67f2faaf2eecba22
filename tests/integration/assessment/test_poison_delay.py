"""What one poison record costs the records around it, on the real database.

The same 2000 records (one consumer batch at the default ASSESSMENT_BATCH_MAX) are
folded into a fresh version: clean; with one garbage record (parked in the batch's
own transaction); with one record that fails for an unknown reason (a rule error:
the batch is halved until it is isolated, tried alone 3 times, then parked as
fold_error). Prints the figures; asserts only the outcomes (timings are not asserted).
Run: pytest -s tests/integration/assessment/test_poison_delay.py
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
import pytest

from bench.generator import Generator, recorded
from services.assessment.adapters.db import is_environment_error
from services.assessment.adapters.writer import ProjectionWriter, WriteTx
from services.assessment.domain.event_facts import FactBatch
from services.assessment.domain.policy import load_default_policy
from services.assessment.domain.records import Record
from services.assessment.service_layer.folding import Folded, fold
from services.assessment.service_layer.resilience import IsolatingFold, Position
from tests.support.projections import migrated_version

pytestmark = pytest.mark.integration
POLICY = load_default_policy()
N = 2000
TOPIC = "events.v1"


class RuleError(Exception):
    pass


@dataclass
class PoisonedStore:
    """The real store, except that one event's facts raise (stands for a rule error)."""

    inner: Any
    poisoned_id: str | None

    async def add_facts(self, facts: FactBatch) -> FactBatch:
        ids = {f.key.event_id for f in facts.filings} | {v.key.event_id for v in facts.verdicts}
        ids |= {i.key.event_id for i in facts.inspections}
        ids |= {c.key.event_id for c in facts.commendations}
        if self.poisoned_id in ids:
            raise RuleError(f"rule error on {self.poisoned_id}")
        result: FactBatch = await self.inner.add_facts(facts)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def records(poison: str | None, n: int) -> tuple[list[Record], str | None]:
    events = list(Generator(seed=11, units=10, staff_per_unit=5).events(n, span_days=120))
    values = [orjson.dumps(recorded(e)) for e in events]
    poisoned_id = None
    if poison == "garbage":
        values[n // 2] = b"\xff{not json"
    elif poison == "rule_error":
        poisoned_id = events[n // 2 + 1]["id"]  # not the garbage's position: parked once
    return [
        Record(TOPIC, i % 3, i // 3, b"k", value) for i, value in enumerate(values)
    ], poisoned_id


async def fold_seconds(url: str, poison: str | None, n: int = N) -> tuple[float, Folded]:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            version = await migrated_version(conn, policy=POLICY, state="building")
        writer = ProjectionWriter(pool, deadletter_topic="measure.deadletter")
        batch, poisoned_id = records(poison, n)

        @asynccontextmanager
        async def transaction() -> AsyncIterator[WriteTx]:
            async with writer.version(version) as tx:
                store: Any = PoisonedStore(tx.store, poisoned_id)
                yield WriteTx(tx.conn, tx.version, tx.policy, store, "measure.deadletter")

        async def fold_once(rs: Sequence[Record], failed: Mapping[Position, str]) -> Folded:
            async with transaction() as tx:
                return await fold(tx, rs, failed=failed)

        isolating = IsolatingFold(fold_once, is_environment=is_environment_error)
        started = time.perf_counter()
        folded = await isolating(batch)
        return time.perf_counter() - started, folded
    finally:
        await pool.close()


async def test_one_poison_record_delays_the_others_by_little(scratch_database_url: str) -> None:
    await fold_seconds(scratch_database_url, None)  # warm-up: imports, statement caches
    clean, clean_folded = await fold_seconds(scratch_database_url, None)
    garbage, garbage_folded = await fold_seconds(scratch_database_url, "garbage")
    rule, rule_folded = await fold_seconds(scratch_database_url, "rule_error")

    print(
        f"\n{N} records in one batch: clean {clean:.2f} s; one garbage record {garbage:.2f} s "
        f"(+{garbage - clean:.2f} s); one record failing with a rule error {rule:.2f} s "
        f"(+{rule - clean:.2f} s: halved until isolated, 3 tries alone, parked)"
    )
    assert clean_folded.new_events == N
    assert garbage_folded.new_events == N - 1
    assert garbage_folded.parked == {"unparseable": 1}
    assert rule_folded.new_events == N - 1
    assert rule_folded.parked == {"fold_error": 1}


async def test_in_a_small_live_batch_the_delay_is_smaller(scratch_database_url: str) -> None:
    """Live traffic comes in small batches (ASSESSMENT_BATCH_WAIT_MS 50): 200 records."""
    await fold_seconds(scratch_database_url, None, 200)
    clean, _ = await fold_seconds(scratch_database_url, None, 200)
    rule, folded = await fold_seconds(scratch_database_url, "rule_error", 200)
    print(f"\n200 records in one batch: clean {clean:.2f} s; one rule error {rule:.2f} s "
          f"(+{rule - clean:.2f} s)")  # fmt: skip
    assert folded.parked == {"fold_error": 1}
    assert folded.new_events == 199
