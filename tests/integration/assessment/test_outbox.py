"""The outbox holds only what waits: the relay deletes what Kafka acknowledged, and
migration 004, on a database the previous relay marked, drops what it had published."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiokafka.errors import KafkaTimeoutError

from services.assessment.adapters import schema
from services.assessment.adapters.outbox import (
    OutboxRecord,
    OutboxRelay,
    enqueue,
    pending_by_topic,
)

pytestmark = pytest.mark.integration


async def test_upgrading_keeps_the_waiting_rows_and_drops_the_published(
    scratch_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    every_file = schema._migration_files

    def before_004(kind: str) -> list[tuple[str, str]]:
        return [(name, sql) for name, sql in every_file(kind) if name < "004"]

    conn = await asyncpg.connect(scratch_database_url)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(schema, "_migration_files", before_004)
            await schema.migrate_control(conn)
        records = [OutboxRecord("t", f"k{n}".encode(), f"v{n}".encode(), ()) for n in range(6)]
        await enqueue(conn, records)
        # The previous relay marked what Kafka acknowledged: the first three, and the fifth.
        await conn.execute(
            "UPDATE assessment.outbox SET published_at = now() WHERE key = ANY($1::bytea[])",
            [b"k0", b"k1", b"k2", b"k4"],
        )

        assert await schema.migrate_control(conn) == ["004_outbox_pending_only.sql"]

        rows = await conn.fetch("SELECT key FROM assessment.outbox ORDER BY id")
        assert [row["key"] for row in rows] == [b"k3", b"k5"]
        assert await pending_by_topic(conn) == {"t": 2}
        column = await conn.fetchval(
            """SELECT count(*) FROM information_schema.columns
                WHERE table_schema = 'assessment' AND table_name = 'outbox'
                  AND column_name = 'published_at'"""
        )
        assert column == 0
        assert await schema.migrate_control(conn) == []  # applied once
    finally:
        await conn.close()


class _Producer:
    """What the relay uses of aiokafka's producer: `send` gives an acknowledgement to await."""

    def __init__(self, fail_at: bytes | None = None) -> None:
        self.sent: list[bytes | None] = []
        self._fail_at = fail_at

    async def usable(self) -> _Producer:
        return self

    async def send(self, topic: str, value: bytes | None, **_: object) -> asyncio.Future[None]:
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if value == self._fail_at:
            acknowledged.set_exception(KafkaTimeoutError())
        else:
            self.sent.append(value)
            acknowledged.set_result(None)
        return acknowledged


async def test_the_relay_deletes_only_what_kafka_acknowledged(scratch_database_url: str) -> None:
    pool = await asyncpg.create_pool(scratch_database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            await schema.migrate_control(conn)
            records = [OutboxRecord("t", b"k", f"v{n}".encode(), ()) for n in range(3)]
            await enqueue(conn, records)

        failing = _Producer(fail_at=b"v1")
        relay = OutboxRelay(pool=pool, producer=failing)  # type: ignore[arg-type]
        with pytest.raises(KafkaTimeoutError):
            await relay.publish_pending()
        async with pool.acquire() as conn:
            assert await pending_by_topic(conn) == {"t": 3}  # nothing deleted unacknowledged

        working = _Producer()
        relay = OutboxRelay(pool=pool, producer=working)  # type: ignore[arg-type]
        assert await relay.publish_pending() == 3
        assert working.sent == [b"v0", b"v1", b"v2"]
        async with pool.acquire() as conn:
            assert await pending_by_topic(conn) == {}
        assert await relay.publish_pending() == 0
    finally:
        await pool.close()
