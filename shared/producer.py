"""The idempotent Kafka producer both services publish through (acks=all).

aiokafka's producer is unusable for good once its background sender stops on a fatal
error (e.g. an out-of-order sequence after a long outage): every later send fails.
`ReplaceableProducer` replaces it when that is seen, instead of failing until someone
restarts the process. Intake's publisher and the assessment's outbox relay use it;
this is the one place that constructs their producer (credentials go here).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.kafka_client import KafkaConnection, aiokafka_options

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1024 * 1024  # aiokafka's and Kafka's default per-record ceiling
# Larger than aiokafka's 16 KiB default: a request of 1000 events fills few batches,
# which roughly doubles throughput (see bench/intake_bench.py).
BATCH_BYTES = 256 * 1024


class ProducerStoppedError(RuntimeError):
    """The producer was stopped (the process is shutting down)."""


def producer_options(kafka: KafkaConnection, *, client_id: str) -> dict[str, Any]:
    """The producer settings of the platform's services (and the bench's ceiling)."""
    return {
        **aiokafka_options(kafka),
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,
        "max_batch_size": BATCH_BYTES,
        "max_request_size": MAX_REQUEST_BYTES,
        "linger_ms": 0,
    }


class ReplaceableProducer:
    def __init__(self, *, kafka: KafkaConnection, client_id: str) -> None:
        self._options = producer_options(kafka, client_id=client_id)
        self._producer: Any = None
        self._lock = asyncio.Lock()
        self._stopped = False

    async def start(self) -> None:
        await self.usable()

    async def stop(self) -> None:
        async with self._lock:
            self._stopped = True
            producer, self._producer = self._producer, None
            if producer is not None:
                await producer.stop()

    async def usable(self) -> Any:
        """The running producer; a new one when there is none or its sender has died."""
        producer = self._producer
        if producer is not None and not sender_stopped(producer):
            return producer
        async with self._lock:
            if self._stopped:
                raise ProducerStoppedError("the producer is stopped")
            if self._producer is not None and not sender_stopped(self._producer):
                return self._producer
            if self._producer is not None:
                log.error("the Kafka producer's sender stopped; replacing the producer")
                old, self._producer = self._producer, None
                await old.stop()
            producer = AIOKafkaProducer(**self._options)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
            return producer


def sender_stopped(producer: Any) -> bool:
    # aiokafka has no public flag for this; `_sender.sender_task` is where it shows.
    task = getattr(getattr(producer, "_sender", None), "sender_task", None)
    return task is not None and task.done()
