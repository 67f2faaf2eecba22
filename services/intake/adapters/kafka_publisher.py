"""The aiokafka producers behind `Publisher` (acks=all, idempotent, transactional).

A batch is published in one Kafka transaction: a publish that fails part way (a record
the broker refuses, a broker lost mid-batch, a timeout) is aborted, so read_committed
readers of events.v1 see all of the batch or none of it, and the client's retry writes
it once (a single record needs no transaction). One producer holds one open transaction
at a time, so concurrent requests share a few producers (`transactional_ids`, one per
slot); each id is stable per intake instance, so that a restarted instance fences its
killed predecessor and the broker aborts whatever that one left open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka.errors import KafkaError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from services.intake.domain.records import OutboundRecord
from services.intake.service_layer.ports import (
    PublishError,
    PublishTimeoutError,
    RecordTooLargeError,
)
from shared.kafka_client import KafkaConnection
from shared.producer import (
    MAX_REQUEST_BYTES,
    TRANSACTION_TIMEOUT_MS,
    ProducerStoppedError,
    ReplaceableProducer,
)

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 2.0
ABORT_TIMEOUT_S = 2.0
_SURELY_FITS = MAX_REQUEST_BYTES // 2


class KafkaPublisher:
    """Sends records and waits for every acknowledgement, within `timeout_s`.

    The producer is replaced when its sender died (shared/producer.py), instead of
    answering 503 until someone restarts the process.
    """

    def __init__(
        self,
        *,
        kafka: KafkaConnection,
        timeout_s: float,
        readiness_topic: str | None = None,
        client_id: str = "intake",
        transactional_ids: Sequence[str] = (),
    ) -> None:
        # A transaction must outlive the publish it carries.
        transaction_timeout_ms = max(TRANSACTION_TIMEOUT_MS, int(timeout_s * 2000))
        self._slots = [
            ReplaceableProducer(
                kafka=kafka,
                client_id=client_id,
                transactional_id=transactional_id,
                transaction_timeout_ms=transaction_timeout_ms,
            )
            for transactional_id in transactional_ids
        ]
        # One record is written whole or not at all without a transaction, which costs
        # two more round trips: single events go through a plain idempotent producer.
        self._single = ReplaceableProducer(kafka=kafka, client_id=client_id)
        self.transactional = bool(self._slots)
        self._free: asyncio.Queue[ReplaceableProducer] = asyncio.Queue()
        for slot in self._slots:
            self._free.put_nowait(slot)
        self._timeout_s = timeout_s
        self._readiness_topic = readiness_topic

    async def start(self) -> None:
        for slot in [self._single, *self._slots]:
            await slot.start()

    async def stop(self) -> None:
        for slot in [self._single, *self._slots]:
            await slot.stop()

    async def _usable_producer(self, slot: ReplaceableProducer | None = None) -> Any:
        try:
            return await (slot or self._single).usable()
        except ProducerStoppedError:
            raise PublishError("intake is shutting down") from None

    async def publish(self, records: Sequence[OutboundRecord]) -> None:
        _check_sizes(records)
        futures: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout(self._timeout_s):
                if self.transactional and len(records) > 1:
                    await self._publish_whole(records, futures)
                else:
                    producer = await self._usable_producer()
                    await _send_all(producer, records, futures)
        except TimeoutError:
            _forget(futures)
            raise PublishTimeoutError(
                f"Kafka did not acknowledge {len(records)} record(s) within {self._timeout_s}s"
            ) from None
        except (KafkaError, OSError) as error:
            _forget(futures)
            raise PublishError(f"Kafka refused the records: {error!r}") from error

    async def _publish_whole(
        self, records: Sequence[OutboundRecord], futures: list[asyncio.Future[Any]]
    ) -> None:
        """All of `records` in one transaction, committed only once every record is
        acknowledged; aborted otherwise (also when the timeout cancels it)."""
        slot = await self._free.get()
        try:
            producer = await self._usable_producer(slot)
            try:
                await producer.begin_transaction()
                await _send_all(producer, records, futures)
                await producer.commit_transaction()
            except BaseException:
                await _abort(slot, producer)
                raise
        finally:
            self._free.put_nowait(slot)

    async def check_ready(self) -> None:
        """A real metadata round-trip, bounded by a short timeout."""
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                producer = await self._usable_producer()
                metadata = await producer.client.fetch_all_metadata()
        except TimeoutError:
            raise PublishError(
                f"Kafka did not answer a metadata request within {READY_TIMEOUT_S}s"
            ) from None
        except (KafkaError, OSError) as error:
            raise PublishError(f"Kafka is unreachable: {error!r}") from None
        topic = self._readiness_topic
        if topic is not None and metadata.partitions_for_topic(topic) is None:
            raise PublishError(f"topic {topic} does not exist")


async def _send_all(
    producer: Any, records: Sequence[OutboundRecord], futures: list[asyncio.Future[Any]]
) -> None:
    for record in records:
        future = await producer.send(
            record.topic, record.value, key=record.key, headers=list(record.headers)
        )
        futures.append(future)
    for future in futures:  # in send order; most are done by the time we look
        await future


async def _abort(slot: ReplaceableProducer, producer: Any) -> None:
    """Abort the open transaction, then replace the producer all the same: after a
    failed batch aiokafka's sequence numbers no longer match the broker's (the retry
    would fail OutOfOrderSequenceNumber). Its successor, under the same transactional
    id, gets a new epoch, fences it, and has the broker abort whatever it left open
    (when the abort itself failed: fenced, the broker gone, a fatal state)."""
    try:
        async with asyncio.timeout(ABORT_TIMEOUT_S):
            await producer.abort_transaction()
    except Exception as error:  # noqa: BLE001 - whatever it was, the producer is replaced
        log.warning("aborting a transaction failed (%r); the producer is replaced", error)
    finally:
        slot.discard(producer, replace=True)


def record_size(record: OutboundRecord) -> int:
    """The record's size as the producer counts it against MAX_REQUEST_BYTES."""
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(
        record.key, record.value, list(record.headers)
    )
    return size


def _check_sizes(records: Sequence[OutboundRecord]) -> None:
    for index, record in enumerate(records):
        rough = len(record.key or b"") + len(record.value or b"")
        for name, value in record.headers:
            rough += len(name) + len(value or b"")
        if rough < _SURELY_FITS:
            continue  # Kafka's own estimate adds a few dozen bytes of framing, no more
        size = record_size(record)
        if size > MAX_REQUEST_BYTES:
            raise RecordTooLargeError(index, size, MAX_REQUEST_BYTES)


def _forget(futures: list[asyncio.Future[Any]]) -> None:
    """Records already handed to the producer may still be delivered after we gave up
    (the caller retries; the idempotency key makes that harmless). Retrieve their
    outcome so asyncio does not log 'exception was never retrieved'."""
    for future in futures:
        future.add_done_callback(_consume_outcome)


def _consume_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.debug("a record given up on failed later: %r", future.exception())
