"""The composition root: builds intake's producer, raw subscriber and HTTP app from
`IntakeSettings`. The app's lifespan starts them and stops them in reverse order."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.base import Specification
from pydantic import WithJsonSchema

from shared.connecting import Connector, Step
from shared.kafka_acls import INTAKE_TRANSACTIONAL_PREFIX
from shared.kafka_client import KafkaConnection, faststream_options
from shared.kafka_topics import ensure_topics, intake_topics
from shared.topics import TopicNames

from .adapters.kafka_publisher import KafkaPublisher
from .entrypoints.http import create_app
from .entrypoints.http.app import utc_now
from .entrypoints.raw_subscriber import register_raw_intake
from .metrics import IntakeMetrics
from .schemas import recorded_envelope_schema
from .service_layer.ports import Publisher, PublishError
from .settings import DEFAULT_RAW_GROUP, IntakeSettings

log = logging.getLogger("services.intake")

# Payload schemas of the topics intake writes, for the AsyncAPI document.
RecordedEvent = Annotated[bytes, WithJsonSchema(recorded_envelope_schema())]
DeadLetter = Annotated[
    bytes,
    WithJsonSchema(
        {
            "title": "DeadLetter",
            "description": "The refused record's original key and value, unchanged.",
        }
    ),
]


@dataclass
class IntakeRuntime:
    """The long-lived resources of one intake process."""

    settings: IntakeSettings
    metrics: IntakeMetrics
    publisher: KafkaPublisher
    broker: KafkaBroker | None
    started: bool = field(default=False, init=False)
    connector: Connector = field(init=False)

    def __post_init__(self) -> None:
        self.connector = Connector([Step("kafka", self.start)], log=log)

    def not_ready(self) -> list[str]:
        """Why intake is not connected yet (nothing once it is)."""
        return [] if self.started else self.connector.reasons()

    async def start(self) -> None:
        """Connect to Kafka; safe to call again after it failed (the connector does)."""
        settings = self.settings
        created = await ensure_topics(
            kafka=settings.kafka,
            specs=intake_topics(settings.topics),
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
        )
        if created:
            log.info("created topics %s", ", ".join(created))
        await self.publisher.start()
        if self.broker is not None:
            try:
                await self.broker.start()
            except BaseException:
                await self.broker.stop()  # the next attempt starts it afresh
                raise
        self.started = True

    async def stop(self) -> None:
        try:
            if self.broker is not None:
                await self.broker.stop()  # waits for the batch in hand, then leaves the group
        finally:
            await self.publisher.stop()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[IntakeRuntime]:
        try:
            await self.start()
            yield self
        finally:
            await self.stop()

    @asynccontextmanager
    async def connecting(self) -> AsyncIterator[IntakeRuntime]:
        """Serve at once; connect to Kafka in the background (start in any order).
        On the way out (after uvicorn finished the requests in flight), stop."""
        self.connector.start()
        try:
            yield self
        finally:
            await self.connector.stop()
            await self.stop()


@dataclass
class _Readiness:
    """Ready once connected and Kafka answers a metadata request; else the reasons."""

    runtime: IntakeRuntime

    async def check_ready(self) -> None:
        reasons = self.runtime.not_ready()
        if reasons:
            raise PublishError("; ".join(reasons))
        await self.runtime.publisher.check_ready()


@dataclass
class IntakeService:
    app: FastAPI
    runtime: IntakeRuntime


def transactional_ids(settings: IntakeSettings) -> list[str]:
    """intake-<instance>-<n>: the same after a restart (the successor fences a killed
    instance's producers), distinct between instances running side by side."""
    if not settings.intake_transactions:
        return []
    instance = settings.intake_instance or f"{socket.gethostname()}-{settings.intake_port}"
    return [
        f"{INTAKE_TRANSACTIONAL_PREFIX}{instance}-{n}" for n in range(settings.intake_producers)
    ]


def build_service(
    settings: IntakeSettings,
    *,
    clock: Callable[[], datetime] = utc_now,
    raw_intake: bool = True,
) -> IntakeService:
    metrics = IntakeMetrics(configured_sources(settings))
    publisher = KafkaPublisher(
        kafka=settings.kafka,
        timeout_s=settings.intake_publish_timeout_s,
        readiness_topic=settings.topics.events,
        transactional_ids=transactional_ids(settings),
    )
    broker = (
        build_raw_broker(
            kafka=settings.kafka,
            topics=settings.topics,
            group=settings.intake_raw_group,
            publisher=publisher,
            metrics=metrics,
            retry_pause_s=settings.intake_retry_after_s,
            clock=clock,
        )
        if raw_intake
        else None
    )
    runtime = IntakeRuntime(settings=settings, metrics=metrics, publisher=publisher, broker=broker)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with runtime.connecting():
            yield

    app = create_app(
        settings=settings,
        publisher=publisher,
        readiness=_Readiness(runtime),
        metrics=metrics,
        clock=clock,
        lifespan=lifespan,
    )
    return IntakeService(app=app, runtime=runtime)


def configured_sources(settings: IntakeSettings) -> set[str]:
    """Every source a token names (a `*` token names none)."""
    return {
        source
        for sources in settings.intake_tokens.values()
        if sources != "*"
        for source in sources
    }


def build_raw_broker(
    *,
    kafka: KafkaConnection,
    topics: TopicNames,
    group: str,
    publisher: Publisher,
    metrics: IntakeMetrics,
    retry_pause_s: float,
    clock: Callable[[], datetime] = utc_now,
) -> KafkaBroker:
    """A consumer-only FastStream broker with the raw subscriber (intake.raw.v1 and
    intake.raw.v1.<source>, by pattern); intake's own idempotent producer
    (`publisher`) writes the forwards and dead letters."""
    broker = KafkaBroker(
        **faststream_options(kafka),
        client_id="intake-raw",
        # A new source's topic (stack/kafka.sh add-source) is picked up within a minute.
        metadata_max_age_ms=60_000,
        consumer_only=True,  # intake's own idempotent producer does the writing
        allow_auto_create_topics=False,  # ensure_topics creates them with their configs
        logger=logging.getLogger("services.intake.raw"),
        log_level=logging.DEBUG,  # a line per consumed batch is too chatty at INFO
        description=(
            "The platform's Kafka cluster: SASL/SCRAM-SHA-512 over TLS only, with ACLs. "
            "An upstream team gets a principal source.<name>, its password and the CA "
            "certificate from the platform team (`stack/kafka.sh add-source <name>`); "
            "that principal may write intake.raw.v1.<name> and nothing else."
        ),
    )
    register_raw_intake(
        broker,
        topics=topics,
        group=group,
        publisher=publisher,
        metrics=metrics,
        clock=clock,
        retry_pause_s=retry_pause_s,
    )
    _document_outputs(broker, topics)
    return broker


def asyncapi_document(*, bootstrap: str = "localhost:9092") -> Specification:
    """The AsyncAPI 3.0 document of the Kafka-native intake, with the contract's topic
    names and its security scheme, SASL/SCRAM-SHA-512 over TLS (no connection is made;
    the credentials are placeholders)."""
    kafka = KafkaConnection(
        bootstrap=bootstrap,
        security_protocol="SASL_SSL",
        username="source.<name>",
        password="<from the platform team>",  # noqa: S106 (a placeholder, never used)
    )
    broker = build_raw_broker(
        kafka=kafka,
        topics=TopicNames(),
        group=DEFAULT_RAW_GROUP,
        publisher=KafkaPublisher(kafka=kafka, timeout_s=1.0),
        metrics=IntakeMetrics(),
        retry_pause_s=1.0,
    )
    return AsyncAPI(
        broker,
        title="Intake (Kafka-native)",
        version="1.0.0",
        description=(
            "Produce event envelopes to intake.raw.v1; intake forwards valid ones to "
            "events.v1 and dead-letters the rest. See CONTRACT.md."
        ),
    ).to_specification()


def _document_outputs(broker: KafkaBroker, topics: TopicNames) -> None:
    """Publishers that only describe, in the AsyncAPI document, where intake writes."""
    broker.publisher(
        topics.events,
        title=topics.events,
        description=(
            "The canonical event log (system of record): key = unit_id (UTF-8), value = "
            "the envelope plus recorded_at, headers event-type, event-source, event-id, "
            "schema-version, content-type."
        ),
        schema=RecordedEvent,
    )
    broker.publisher(
        topics.intake_deadletter,
        title=topics.intake_deadletter,
        description=(
            "Raw records intake refused: original key and value; headers dlq-reason "
            "(empty, not_utf8, not_json, not_an_object, invalid_event, too_large, "
            "source_not_allowed), "
            "dlq-errors (JSON list of {loc, msg}), dlq-origin (topic/partition/offset)."
        ),
        schema=DeadLetter,
    )


__all__ = [
    "IntakeRuntime",
    "IntakeService",
    "asyncapi_document",
    "build_raw_broker",
    "build_service",
]
