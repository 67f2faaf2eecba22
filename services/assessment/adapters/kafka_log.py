"""Reading events.v1 outside the consumer group: history for rebuilds, end offsets.

Neither reader joins a group or commits anything: positions are the projection's
own, stored in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from services.assessment.service_layer.records import Record
from shared.kafka_topics import topic_partitions

log = logging.getLogger(__name__)


class HistoryReader:
    """Reads one topic in large batches from stored positions up to target offsets."""

    def __init__(self, *, bootstrap: str, topic: str, batch_records: int) -> None:
        self.topic = topic
        self._bootstrap = bootstrap
        self._batch_records = batch_records
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=16 * 1024 * 1024,
            check_crcs=False,  # the broker already checked them on write
        )
        self._partitions: list[TopicPartition] = []

    async def start(self) -> None:
        found = await topic_partitions(bootstrap=self._bootstrap, topic=self.topic)
        if not found:
            raise RuntimeError(f"topic {self.topic} does not exist")
        await self._consumer.start()
        self._partitions = [TopicPartition(self.topic, p) for p in found]
        self._consumer.assign(self._partitions)

    async def stop(self) -> None:
        await self._consumer.stop()

    async def end_offsets(self) -> dict[int, int]:
        """Offset the next record of each partition will get."""
        ends = await self._consumer.end_offsets(self._partitions)
        return {tp.partition: offset for tp, offset in ends.items()}

    async def read(
        self, *, after: dict[int, int], until: dict[int, int]
    ) -> AsyncIterator[list[Record]]:
        """Batches of records with `after[p] < offset < until[p]` (after: last offset
        already folded, -1 for none; until: exclusive end)."""
        wanted: list[TopicPartition] = []
        for tp in self._partitions:
            start = after.get(tp.partition, -1) + 1
            if start < until.get(tp.partition, 0):
                self._consumer.seek(tp, start)
                wanted.append(tp)
        remaining = set(wanted)
        while remaining:
            fetched = await self._consumer.getmany(
                *remaining, timeout_ms=1000, max_records=self._batch_records
            )
            batch: list[Record] = []
            for tp, raws in fetched.items():
                end = until[tp.partition]
                batch.extend(Record.from_kafka(raw) for raw in raws if raw.offset < end)
            for tp in list(remaining):
                if await self._consumer.position(tp) >= until[tp.partition]:
                    remaining.discard(tp)
            if batch:
                yield batch


class EndOffsets:
    """End offsets of a topic for /v1/status (None when Kafka does not answer)."""

    def __init__(self, *, bootstrap: str, timeout: float = 2.0) -> None:
        self._bootstrap = bootstrap
        self._consumer = self._new_consumer()
        self._timeout = timeout
        self._started = False
        # start() runs from the connector's retries and from status/lag queries: one at a
        # time, and at most once per consumer (aiokafka asserts "Did you call `start`
        # twice?" otherwise, which made every later connection attempt fail for good).
        self._starting = asyncio.Lock()
        self._partitions: dict[str, list[TopicPartition]] = {}  # partitions rarely change

    def _new_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False
        )

    async def start(self, within: float = 10) -> bool:
        async with self._starting:
            if self._started:
                return True
            try:
                async with asyncio.timeout(within):
                    await self._consumer.start()
                self._started = True
            except (KafkaError, TimeoutError):
                # A start cut short leaves the client half set up: start afresh next time.
                await self._consumer.stop()
                self._consumer = self._new_consumer()
                log.warning("Kafka unreachable at start-up; /v1/status will show no lag yet")
            return self._started

    async def stop(self) -> None:
        if self._started:
            await self._consumer.stop()

    async def __call__(self, topic: str) -> dict[int, int] | None:
        try:
            if not await self.start(self._timeout):
                return None
            async with asyncio.timeout(self._timeout):
                if not self._partitions.get(topic):
                    found = await topic_partitions(bootstrap=self._bootstrap, topic=topic)
                    self._partitions[topic] = [TopicPartition(topic, p) for p in found]
                ends = await self._consumer.end_offsets(self._partitions[topic])
        except (KafkaError, TimeoutError):
            return None
        return {tp.partition: offset for tp, offset in ends.items()}


class FeedTail:
    """Follows a topic (the change feed) on every partition, outside any group: from
    the beginning or from its end, as records arrive (`assessment changes tail`)."""

    def __init__(self, *, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self._bootstrap = bootstrap
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )

    async def records(
        self, *, from_beginning: bool, on_ready: Callable[[], None] = lambda: None
    ) -> AsyncIterator[Record]:
        """Records as they arrive; `on_ready` once positioned (a record produced after
        it is seen even when following from the end)."""
        found = await topic_partitions(bootstrap=self._bootstrap, topic=self.topic)
        if not found:
            raise RuntimeError(f"topic {self.topic} does not exist")
        await self._consumer.start()
        try:
            partitions = [TopicPartition(self.topic, p) for p in found]
            self._consumer.assign(partitions)
            if from_beginning:
                await self._consumer.seek_to_beginning(*partitions)
            else:
                await self._consumer.seek_to_end(*partitions)
                for tp in partitions:  # resolve the end now, not at the first fetch
                    await self._consumer.position(tp)
            on_ready()
            while True:
                fetched = await self._consumer.getmany(timeout_ms=1000)
                for tp in sorted(fetched, key=lambda tp: tp.partition):
                    for raw in fetched[tp]:
                        yield Record.from_kafka(raw)
        finally:
            await self._consumer.stop()
