"""The idempotent aiokafka producer behind `Publisher` (acks=all, enable_idempotence)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka.errors import KafkaError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from services.intake.domain.records import OutboundRecord
from shared.kafka_client import KafkaConnection
from shared.producer import (
    MAX_REQUEST_BYTES,
    ProducerStoppedError,
    ReplaceableProducer,
)

from .publisher import PublishError, PublishTimeoutError, RecordTooLargeError

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 2.0
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
    ) -> None:
        self._producer = ReplaceableProducer(kafka=kafka, client_id=client_id)
        self._timeout_s = timeout_s
        self._readiness_topic = readiness_topic

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def _usable_producer(self) -> Any:
        try:
            return await self._producer.usable()
        except ProducerStoppedError:
            raise PublishError("intake is shutting down") from None

    async def publish(self, records: Sequence[OutboundRecord]) -> None:
        _check_sizes(records)
        futures: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout(self._timeout_s):
                producer = await self._usable_producer()
                for record in records:
                    future = await producer.send(
                        record.topic, record.value, key=record.key, headers=list(record.headers)
                    )
                    futures.append(future)
                for future in futures:  # in send order; most are done by the time we look
                    await future
        except TimeoutError:
            _forget(futures)
            raise PublishTimeoutError(
                f"Kafka did not acknowledge {len(records)} record(s) within {self._timeout_s}s"
            ) from None
        except (KafkaError, OSError) as error:
            _forget(futures)
            raise PublishError(f"Kafka refused the records: {error!r}") from error

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
