"""Reading events.v1 outside the consumer group: history for rebuilds, end offsets.

Neither reader joins a group or commits anything: positions are the projection's
own, stored in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from services.assessment.domain.records import Record
from services.assessment.service_layer.rebuild_ports import RecordColumns
from shared.kafka_client import KafkaConnection, aiokafka_options
from shared.kafka_topics import topic_partitions
from shared.topics import HEADER_SCHEMA_VERSION

log = logging.getLogger(__name__)


class HistoryReader:
    """Reads one topic in large batches from stored positions up to target offsets."""

    def __init__(self, *, kafka: KafkaConnection, topic: str, batch_records: int) -> None:
        self.topic = topic
        self._kafka = kafka
        self._batch_records = batch_records
        self._consumer = AIOKafkaConsumer(
            **aiokafka_options(kafka),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",  # never a batch intake aborted
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=16 * 1024 * 1024,
            check_crcs=False,  # the broker already checked them on write
        )
        self._partitions: list[TopicPartition] = []

    async def start(self) -> None:
        found = await topic_partitions(kafka=self._kafka, topic=self.topic)
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
        async for fetched in self._fetch(after=after, until=until):
            batch = [Record.from_kafka(raw) for raws in fetched for raw in raws]
            if batch:
                yield batch

    async def read_columns(
        self, *, after: dict[int, int], until: dict[int, int]
    ) -> AsyncIterator[RecordColumns]:
        """`read` as columns, straight from the client's records."""
        async for fetched in self._fetch(after=after, until=until):
            values: list[bytes | None] = []
            versions: list[str | None] = []
            positions: list[tuple[int, int]] = []
            highest: dict[int, int] = {}
            for raws in fetched:
                if not raws:
                    continue
                values += [raw.value for raw in raws]
                versions += [_schema_version(raw.headers) for raw in raws]
                positions += [(raw.partition, raw.offset) for raw in raws]
                highest[raws[-1].partition] = raws[-1].offset
            if values:
                yield RecordColumns(values, versions, positions, highest)

    async def _fetch(
        self, *, after: dict[int, int], until: dict[int, int]
    ) -> AsyncIterator[list[list[Any]]]:
        """The client's records of each partition, in offset order, below `until`."""
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
            batch: list[list[Any]] = []
            for tp, raws in fetched.items():
                end = until[tp.partition]
                if raws and raws[-1].offset >= end:
                    raws = [raw for raw in raws if raw.offset < end]
                batch.append(raws)
            for tp in list(remaining):
                if await self._consumer.position(tp) >= until[tp.partition]:
                    remaining.discard(tp)
            yield batch


def _schema_version(headers: Any) -> str | None:
    """`Record.header(HEADER_SCHEMA_VERSION)` of a client's record."""
    for key, value in headers or ():
        if key == HEADER_SCHEMA_VERSION:
            decoded: str = value.decode("utf-8", errors="replace")
            return decoded
    return None


class EndOffsets:
    """Where each partition's committed records end, for /v1/status and the lag gauges
    (None when Kafka does not answer).

    Not Kafka's end offset: intake's transactions end in a commit marker (and an aborted
    batch is records no reader gets), so a folded partition's last record is followed by
    offsets no fold ever sees. The end given here is one past the last record a
    read_committed reader gets, so that `end - (position + 1)` is 0 once all is folded.
    """

    def __init__(self, *, kafka: KafkaConnection, timeout: float = 2.0) -> None:
        self._kafka = kafka
        self._consumer = self._new_consumer()
        self._records_end = RecordsEnd(self._consumer)
        self._timeout = timeout
        self._started = False
        # start() runs from the connector's retries and from status/lag queries: one at a
        # time, and at most once per consumer (aiokafka asserts "Did you call `start`
        # twice?" otherwise, which made every later connection attempt fail for good).
        self._starting = asyncio.Lock()
        self._partitions: dict[str, list[TopicPartition]] = {}  # partitions rarely change

    def _new_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            **aiokafka_options(self._kafka),
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",  # the end is the last stable offset
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
                self._records_end = RecordsEnd(self._consumer)
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
                    found = await topic_partitions(kafka=self._kafka, topic=topic)
                    self._partitions[topic] = [TopicPartition(topic, p) for p in found]
                ends = await self._consumer.end_offsets(self._partitions[topic])
                return {tp.partition: await self._records_end(tp, end) for tp, end in ends.items()}
        except (KafkaError, TimeoutError):
            return None


class RecordsEnd:
    """One past the last record a read_committed reader gets below `end`, found by
    reading the partition's tail (a small window, wider when it holds no record), and
    remembered per end offset."""

    WINDOW = 16

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer
        self._known: dict[TopicPartition, tuple[int, int]] = {}  # end -> records' end

    async def __call__(self, tp: TopicPartition, end: int) -> int:
        known = self._known.get(tp)
        if known is not None and known[0] == end:
            return known[1]
        records_end = 0
        window = self.WINDOW
        while end > 0:
            start = max(0, end - window)
            last = await self._last_record(tp, start, end)
            if last is not None:
                records_end = last + 1
                break
            if start == 0:
                break
            window *= 8
        self._known[tp] = (end, records_end)
        return records_end

    async def _last_record(self, tp: TopicPartition, start: int, end: int) -> int | None:
        if tp not in self._consumer.assignment():
            self._consumer.assign([*self._consumer.assignment(), tp])
        self._consumer.seek(tp, start)
        last: int | None = None
        while await self._consumer.position(tp) < end:
            fetched = await self._consumer.getmany(tp, timeout_ms=200)
            for raw in fetched.get(tp, []):
                if raw.offset < end:
                    last = raw.offset
        return last


class FeedTail:
    """Follows a topic (the change feed) on every partition, outside any group: from
    the beginning or from its end, as records arrive (`assessment changes tail`)."""

    def __init__(self, *, kafka: KafkaConnection, topic: str) -> None:
        self.topic = topic
        self._kafka = kafka
        self._consumer = AIOKafkaConsumer(
            **aiokafka_options(kafka),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )

    async def records(
        self, *, from_beginning: bool, on_ready: Callable[[], None] = lambda: None
    ) -> AsyncIterator[Record]:
        """Records as they arrive; `on_ready` once positioned (a record produced after
        it is seen even when following from the end)."""
        found = await topic_partitions(kafka=self._kafka, topic=self.topic)
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
