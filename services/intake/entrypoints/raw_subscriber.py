"""Kafka-native intake: a FastStream subscriber on the raw topics, by pattern:
intake.raw.v1 (for principals allowed every source) and intake.raw.v1.<source> (one per
upstream source, writable only by its principal; a record there whose `source` differs
is dead-lettered `source_not_allowed`).

Each consumed batch is validated record by record; valid events go to events.v1,
everything else to intake.deadletter.v1 (with dlq-reason, dlq-errors, dlq-origin).
Offsets are committed only after Kafka acknowledged every forward and dead letter
(`AckPolicy.NACK_ON_ERROR`: an exception seeks back, so the batch is redelivered).

Records reach the handler as bytes whatever they hold (shared/faststream_batches.py):
judging the bytes is the handler's job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import WithJsonSchema

from services.intake.domain.records import RawRecord
from services.intake.metrics import IntakeMetrics
from services.intake.schemas import envelope_schema, inline_refs
from services.intake.service_layer.handlers import route_raw
from services.intake.service_layer.ports import Publisher, PublishError
from shared.faststream_batches import as_batch, bytes_decoder, tolerant_parser
from shared.topics import TopicNames

log = logging.getLogger(__name__)

MAX_RECORDS = 500
BATCH_TIMEOUT_MS = 100

# For the AsyncAPI document: each record's value is one event envelope (JSON).
RawEnvelopes = Annotated[
    list[bytes],
    WithJsonSchema(
        {
            k: v
            for k, v in inline_refs(envelope_schema()).items()
            if k not in {"$schema", "$id", "x-schema-version"}
        }
    ),
]


def register_raw_intake(
    broker: KafkaBroker,
    *,
    topics: TopicNames,
    group: str,
    publisher: Publisher,
    metrics: IntakeMetrics,
    clock: Callable[[], datetime],
    retry_pause_s: float,
) -> None:
    subscriber = broker.subscriber(
        pattern=topics.raw_pattern,
        batch=True,
        max_records=MAX_RECORDS,
        batch_timeout_ms=BATCH_TIMEOUT_MS,
        group_id=group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        parser=tolerant_parser,
        decoder=bytes_decoder,
        title=topics.intake_raw,
        description=(
            "Upstream systems may produce event envelopes here (JSON, UTF-8, one per "
            f"record, any key): to {topics.intake_raw}.<source>, which only that source's "
            "principal (SASL/SCRAM-SHA-512 user source.<source>) may write, or to "
            f"{topics.intake_raw}, for principals trusted with every source. Intake "
            f"validates each: valid ones are forwarded to {topics.events} keyed by unit_id, "
            f"the rest go to {topics.intake_deadletter} with the original key and value and "
            "headers dlq-reason, dlq-errors, dlq-origin; a record whose source is not its "
            "topic's has dlq-reason source_not_allowed."
        ),
    )

    @subscriber
    async def intake_raw(envelopes: RawEnvelopes, message: KafkaMessage) -> None:
        records = [_raw_record(r) for r in as_batch(message.raw_message)]
        try:
            outcome = await route_raw(
                records,
                publisher=publisher,
                topics=topics,
                received_at=clock(),
                metrics=metrics,
            )
        except PublishError as failed:
            # Not acknowledged: the offsets stay, the batch comes again after a pause.
            log.warning("raw batch of %d not published (%s); will retry", len(records), failed)
            await asyncio.sleep(retry_pause_s)
            raise
        if outcome.dead_letters:
            log.info(
                "dead-lettered %d of %d raw records: %s",
                len(outcome.dead_letters),
                len(records),
                ", ".join(f"{r.origin} ({reason})" for r, reason in outcome.dead_letters[:10]),
            )


def _raw_record(record: ConsumerRecord[Any, Any]) -> RawRecord:
    return RawRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=tuple(record.headers),
    )
