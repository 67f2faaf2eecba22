"""The idempotent Kafka producer both services publish through (acks=all).

Intake's producers are also transactional (a batch is published whole or not at all,
see services/intake/adapters/kafka_publisher.py); the assessment's outbox relay is not.

aiokafka's producer is unusable for good once its background sender stops on a fatal
error (e.g. an out-of-order sequence after a long outage): every later send fails.
`ReplaceableProducer` replaces it when that is seen, instead of failing until someone
restarts the process. Intake's publisher and the assessment's outbox relay use it;
this is the one place that constructs their producer (credentials go here).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.kafka_client import KafkaConnection, aiokafka_options

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1024 * 1024  # aiokafka's and Kafka's default per-record ceiling
# Larger than aiokafka's 16 KiB default: a request of 1000 events fills few batches,
# which roughly doubles throughput (see bench/intake_bench.py).
BATCH_BYTES = 256 * 1024
# How long the broker keeps a transaction open before aborting it itself: the longest a
# producer killed mid-transaction (and not restarted under its transactional id, which
# aborts it at once) holds back read_committed readers. Intake raises it when its
# publish timeout is longer (a transaction must outlive the publish it carries).
TRANSACTION_TIMEOUT_MS = 30_000


class ProducerStoppedError(RuntimeError):
    """The producer was stopped (the process is shutting down)."""


def producer_options(
    kafka: KafkaConnection,
    *,
    client_id: str,
    transactional_id: str | None = None,
    transaction_timeout_ms: int = TRANSACTION_TIMEOUT_MS,
) -> dict[str, Any]:
    """The producer settings of the platform's services (and the bench's ceiling)."""
    transactional = (
        {"transactional_id": transactional_id, "transaction_timeout_ms": transaction_timeout_ms}
        if transactional_id is not None
        else {}
    )
    return {
        **transactional,
        **aiokafka_options(kafka),
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,
        "max_batch_size": BATCH_BYTES,
        "max_request_size": MAX_REQUEST_BYTES,
        "linger_ms": 0,
    }


class ReplaceableProducer:
    def __init__(
        self,
        *,
        kafka: KafkaConnection,
        client_id: str,
        transactional_id: str | None = None,
        transaction_timeout_ms: int = TRANSACTION_TIMEOUT_MS,
    ) -> None:
        self._options = producer_options(
            kafka,
            client_id=client_id,
            transactional_id=transactional_id,
            transaction_timeout_ms=transaction_timeout_ms,
        )
        self.transactional_id = transactional_id
        self._producer: Any = None
        self._lock = asyncio.Lock()
        self._stopped = False
        self._retiring: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.usable()

    async def stop(self) -> None:
        async with self._lock:
            self._stopped = True
            producer, self._producer = self._producer, None
            if producer is not None:
                await producer.stop()

    def discard(self, producer: Any, *, replace: bool = False) -> None:
        """Stop using `producer` (a fenced or failed transactional one); it is stopped
        in the background. `replace`: start its successor now rather than at the next
        `usable()` — under the same transactional id, the successor fences it and has
        the broker abort its open transaction, which holds back read_committed readers
        until then."""
        if self._producer is producer:
            self._producer = None
        self._background(_stop_quietly(producer))
        if replace:
            self._background(self._warm_up())

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _warm_up(self) -> None:
        try:
            await self.usable()
        except Exception as error:  # noqa: BLE001 - the next publish tries again
            log.info("no new Kafka producer yet (%r); the next publish retries", error)

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


async def _stop_quietly(producer: Any) -> None:
    try:
        async with asyncio.timeout(10):
            await producer.stop()
    except Exception as error:  # noqa: BLE001 - it is being thrown away
        log.debug("a discarded producer did not stop cleanly: %r", error)
