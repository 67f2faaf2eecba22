"""The live consumer: a FastStream batch subscriber on events.v1.

Offsets live in PostgreSQL, next to the projections (aiokafka: "storing offsets
outside Kafka"): on every assignment the consumer seeks to the live version's stored
position, and Kafka's own commit only follows a committed transaction
(AckPolicy.NACK_ON_ERROR: commit after success; on failure seek back and retry).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from services.assessment.domain.records import Record
from services.assessment.service_layer.folding import Folded
from shared.faststream_batches import as_batch, bytes_decoder, tolerant_parser

log = logging.getLogger(__name__)

FoldBatch = Callable[[Sequence[Record]], Awaitable[Folded]]
StoredPositions = Callable[[str], Awaitable[dict[int, int]]]


class SeekToStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, continue each partition right after the stored position."""

    def __init__(self, stored_positions: StoredPositions) -> None:
        self._stored_positions = stored_positions
        self.subscriber: Any = None  # set once the subscriber exists

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Nothing to flush: every folded batch was committed in its own transaction.
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.subscriber.consumer if self.subscriber else None
        if consumer is None or not assigned:
            return
        by_topic: dict[str, dict[int, int]] = {}
        for tp in assigned:
            if tp.topic not in by_topic:
                by_topic[tp.topic] = await self._stored_positions(tp.topic)
            stored = by_topic[tp.topic].get(tp.partition)
            if stored is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, stored + 1)
        log.info("assigned %s; resuming after the stored positions", sorted(map(str, assigned)))


class RetryingFold:
    """Folds a batch; on failure waits (growing backoff) and re-raises so that the
    batch is redelivered. Nothing is swallowed: an offset is never committed for a
    batch that did not commit. (What reaches here is a failure of the environment:
    the fold isolates and parks records that fail for what they contain.)"""

    def __init__(
        self,
        fold_batch: FoldBatch,
        *,
        max_delay: float = 10.0,
        on_failure: Callable[[BaseException], None] = lambda _: None,
    ) -> None:
        self._fold_batch = fold_batch
        self._max_delay = max_delay
        self._on_failure = on_failure
        self._failures = 0

    async def __call__(self, records: Sequence[Record]) -> Folded:
        try:
            folded = await self._fold_batch(records)
        except Exception as error:
            self._on_failure(error)
            self._failures += 1
            delay = min(0.25 * 2**self._failures, self._max_delay)
            log.exception("folding %d records failed; retrying in %.1f s", len(records), delay)
            await asyncio.sleep(delay)
            raise
        self._failures = 0
        return folded


def register_consumer(
    broker: KafkaBroker,
    *,
    topic: str,
    group_id: str,
    max_records: int,
    batch_wait_ms: int,
    fold_batch: FoldBatch,
    stored_positions: StoredPositions,
    on_failure: Callable[[BaseException], None] = lambda _: None,
) -> Any:
    listener = SeekToStoredPositions(stored_positions)
    retrying = RetryingFold(fold_batch, on_failure=on_failure)
    subscriber = broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_wait_ms,
        auto_offset_reset="earliest",
        # Intake publishes each batch in a transaction: an aborted one is never folded.
        isolation_level="read_committed",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        listener=listener,
        parser=tolerant_parser,  # poison reaches the handler, whatever its bytes
        decoder=bytes_decoder,
        title="assessment-events",
        description="Folds events.v1 into the live projection version.",
    )
    listener.subscriber = subscriber

    @subscriber
    async def on_events(message: KafkaMessage) -> None:
        await retrying([Record.from_kafka(raw) for raw in as_batch(message.raw_message)])

    return subscriber
