"""The transactional outbox: records for Kafka written in the caller's transaction,
published by a relay after it commits.

No Kafka send happens inside a fold transaction: a retried batch cannot send twice
while holding the writer lock, and a Kafka outage cannot stall the fold. The relay
publishes rows in id order (so the records of one key keep their order), waits for
every acknowledgement, then deletes them: at least once, across restarts. So the
outbox holds only what waits (Kafka keeps what was sent).
Generic: the dead letters and the change feed use it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg

from services.assessment.adapters.db import Connection

if TYPE_CHECKING:  # the relay's, and only the service runs it: the folds that enqueue,
    # and the ops commands, go without aiokafka and FastStream
    from shared.producer import ReplaceableProducer

log = logging.getLogger(__name__)

_COLUMNS = ("topic", "key", "value", "header_names", "header_values")
_PENDING = """
    SELECT id, topic, key, value, header_names, header_values FROM assessment.outbox
    ORDER BY id LIMIT $1"""
_SENT = "DELETE FROM assessment.outbox WHERE id = ANY($1::bigint[])"
# One relay publishes at a time (several assessment instances each run one): two
# relays sending the same rows concurrently could interleave a unit's records.
RELAY_LOCK = 7_001_004


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


async def enqueue(conn: Connection, records: Sequence[OutboxRecord]) -> None:
    """Add records to the outbox, inside the caller's transaction: one binary COPY (a
    live batch queues a change-feed record per warning and alert it changed, hundreds at
    a time; row by row that was one statement each). Ids follow the records' order."""
    if records:
        await conn.copy_records_to_table(
            "outbox",
            schema_name="assessment",
            columns=_COLUMNS,
            records=[
                (r.topic, r.key, r.value, [n for n, _ in r.headers], [v for _, v in r.headers])
                for r in records
            ],
        )


async def pending_by_topic(conn: Connection) -> dict[str, int]:
    """Records not yet published, per topic (for the metrics)."""
    rows = await conn.fetch("SELECT topic, count(*) AS n FROM assessment.outbox GROUP BY topic")
    return {row["topic"]: row["n"] for row in rows}


class OutboxRelay:
    """Publishes the outbox after commit; `wake()` after a commit that added rows."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        producer: ReplaceableProducer,
        poll_s: float = 1.0,
        batch: int = 500,
        max_backoff_s: float = 10.0,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._poll_s = poll_s
        self._batch = batch
        self._max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()
        self.published = 0
        self.last_error: str | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled: publish what is pending, wait for a wake-up or the poll."""
        from aiokafka.errors import KafkaError

        failures = 0
        while True:
            try:
                sent = await self.publish_pending()
                failures, self.last_error = 0, None
            except (OSError, KafkaError, asyncpg.PostgresError, asyncpg.InterfaceError,
                    TimeoutError) as error:  # fmt: skip
                failures += 1
                self.last_error = repr(error)
                delay = min(0.2 * 2**failures, self._max_backoff_s)
                log.warning("outbox relay failed (%r); retrying in %.1f s", error, delay)
                await asyncio.sleep(delay)
                continue
            if sent:
                continue  # more may be waiting
            self._wake.clear()
            try:
                async with asyncio.timeout(self._poll_s):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def publish_pending(self) -> int:
        async with self._pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):
                return 0  # another instance's relay is publishing
            try:
                return await self._publish_locked(conn)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", RELAY_LOCK)

    async def _publish_locked(self, conn: Connection) -> int:
        rows = await conn.fetch(_PENDING, self._batch)
        if not rows:
            return 0
        producer: Any = await self._producer.usable()
        futures = [
            await producer.send(
                row["topic"],
                row["value"],
                key=row["key"],
                headers=list(zip(row["header_names"], row["header_values"], strict=True)),
            )
            for row in rows
        ]
        async with asyncio.timeout(30):
            for future in futures:
                await future
        await conn.execute(_SENT, [row["id"] for row in rows])
        self.published += len(rows)
        return len(rows)
