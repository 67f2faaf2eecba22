"""The composition root: builds every part of the assessment service from Settings."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import uvicorn
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from services.assessment.adapters import versions
from services.assessment.adapters.db import Connection, create_pool, role_of
from services.assessment.adapters.deadletter import KafkaDeadLetters
from services.assessment.adapters.kafka_log import EndOffsets
from services.assessment.adapters.read_model import ReadModel
from services.assessment.adapters.schema import (
    MIGRATION_LOCK,
    grant_service_roles,
    migrate_control,
    migrate_projection,
)
from services.assessment.adapters.writer import ProjectionWriter
from services.assessment.domain.policy import (
    Policy,
    default_policy_path,
    load_policy,
    policy_fingerprint,
)
from services.assessment.entrypoints.consumer import register_consumer
from services.assessment.entrypoints.http.app import create_app
from services.assessment.entrypoints.http.routes import QueryDeps
from services.assessment.metrics import ConsumerMetrics
from services.assessment.service_layer.folding import Folded, fold
from services.assessment.service_layer.records import Record
from services.assessment.settings import AssessmentSettings, ProjectionSettings
from shared.kafka_client import faststream_options
from shared.kafka_topics import assessment_topics, ensure_topics

log = logging.getLogger(__name__)


def configured_policy(settings: ProjectionSettings) -> Policy:
    return load_policy(settings.assessment_policy_file or default_policy_path())


async def prepare_database(conn: Connection, policy: Policy) -> versions.Version:
    """Migrate the control schema and every version's schema; make sure a version is
    live (the first start creates it with the configured policy)."""
    await migrate_control(conn)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        live = await versions.live_version(conn)
        if live is None:
            live = await versions.create_version(
                conn, policy=policy, state="live", note="first start"
            )
            log.info("created projection version %d (policy %s)", live.version, policy.version)
    for found in await versions.list_versions(conn):
        if found.state in {"live", "ready"}:
            await migrate_projection(conn, found.schema_name)
    if live.policy_fingerprint != policy_fingerprint(policy):
        log.warning(
            "the configured policy %s differs from the live version's (%s); the live "
            "version keeps its own until `assessment replay --policy FILE` switches",
            policy.version,
            live.policy_version,
        )
    return live


async def open_database(settings: ProjectionSettings, *, as_owner: bool = False) -> asyncpg.Pool:
    """Migrates (as the owner), then opens the writer's pool, or the owner's for the ops
    commands that create or drop schemas (`as_owner`)."""
    policy = configured_policy(settings)  # a bad policy file stops us before connecting
    conn = await asyncpg.connect(settings.owner_url)
    try:
        await prepare_database(conn, policy)
        await grant_service_roles(
            conn, writer=role_of(settings.database_url), reader=role_of(settings.read_url)
        )
    finally:
        await conn.close()
    url = settings.owner_url if as_owner else settings.database_url
    return await create_pool(url, size=settings.assessment_pool_size)


@dataclass
class Runtime:
    settings: AssessmentSettings
    pool: asyncpg.Pool
    read_pool: asyncpg.Pool  # the query API's: a read-only role, read-only transactions
    broker: KafkaBroker
    end_offsets: EndOffsets
    app: FastAPI

    async def close(self) -> None:
        await self.broker.stop()
        await self.end_offsets.stop()
        await self.read_pool.close()
        await self.pool.close()


async def build_runtime(settings: AssessmentSettings) -> Runtime:
    configured_policy(settings)  # fail fast on a bad policy file, before any connection
    topics = settings.topics
    await ensure_topics(
        kafka=settings.kafka,
        specs=assessment_topics(topics),
        partitions=settings.topic_partitions,
        replication=settings.topic_replication,
    )
    pool = await open_database(settings)
    read_pool = await create_pool(
        settings.read_url, size=settings.assessment_pool_size, read_only=True
    )
    registry = CollectorRegistry()
    broker = KafkaBroker(
        **faststream_options(settings.kafka),
        client_id="assessment",
        enable_idempotence=True,
        acks="all",
        log_level=logging.DEBUG,  # per-batch "Received/Processed" lines
    )
    writer = ProjectionWriter(pool)
    deadletters = KafkaDeadLetters(broker, topics.assessment_deadletter)
    metrics = ConsumerMetrics(registry)

    async def fold_live(records: Sequence[Record]) -> Folded:
        started = time.perf_counter()
        async with writer.live() as tx:
            folded = await fold(tx, records, deadletters)
        metrics.observe(folded, time.perf_counter() - started)
        return folded

    async def live_positions(topic: str) -> dict[int, int]:
        async with writer.live() as tx:
            return await tx.positions(topic)

    if settings.assessment_consumer:
        register_consumer(
            broker,
            topic=topics.events,
            group_id=settings.assessment_group,
            max_records=settings.assessment_batch_max,
            batch_wait_ms=settings.assessment_batch_wait_ms,
            fold_batch=fold_live,
            stored_positions=live_positions,
        )

    read_model = ReadModel(read_pool)
    end_offsets = EndOffsets(kafka=settings.kafka)

    async def readiness() -> list[str]:
        problems = []
        try:
            async with read_model.snapshot():
                pass
        except (OSError, asyncpg.PostgresError, RuntimeError) as error:
            problems.append(f"database: {error}")
        if await end_offsets(topics.events) is None:
            problems.append("kafka: not reachable")
        return problems

    app = create_app(
        query_deps=QueryDeps(
            read_model=read_model,
            topic=topics.events,
            end_offsets=end_offsets,
            clock=lambda: datetime.now(UTC),
        ),
        read_tokens=settings.read_tokens,
        readiness=readiness,
        registry=registry,
    )
    return Runtime(
        settings=settings,
        pool=pool,
        read_pool=read_pool,
        broker=broker,
        end_offsets=end_offsets,
        app=app,
    )


async def serve(settings: AssessmentSettings) -> None:
    runtime = await build_runtime(settings)
    try:
        await runtime.end_offsets.start()
        if settings.assessment_consumer:
            await runtime.broker.start()
        server = uvicorn.Server(
            uvicorn.Config(
                runtime.app,
                host=settings.assessment_host,
                port=settings.assessment_port,
                lifespan="off",
                log_level=settings.log_level.lower(),
                access_log=False,
            )
        )
        await server.serve()
    finally:
        await runtime.close()
