"""The composition root: builds every part of the assessment service from Settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

import asyncpg

from services.assessment.adapters import versions
from services.assessment.adapters.bulk_decode import decode_chunk, start_worker
from services.assessment.adapters.db import (
    CONNECT_TIMEOUT_S,
    DATABASE_UNAVAILABLE,
    Connection,
    create_pool,
    is_environment_error,
    role_of,
)
from services.assessment.adapters.projection_sql import sql_for
from services.assessment.adapters.read_model import NoLiveVersionError, ReadModel
from services.assessment.adapters.rebuild_store import PgRebuildStore
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
from services.assessment.domain.records import Record
from services.assessment.entrypoints import scope_worker
from services.assessment.service_layer.bulk import REBUILD_WORKERS, RebuildWorkers
from services.assessment.service_layer.folding import Folded, fold
from services.assessment.service_layer.rebuild_ports import Decoding, Evaluating, RebuildPorts
from services.assessment.service_layer.resilience import IsolatingFold, Position
from services.assessment.settings import AssessmentSettings, ProjectionSettings
from shared.connecting import Connector, Step, describe

if TYPE_CHECKING:
    from fastapi import FastAPI
    from faststream.kafka import KafkaBroker

    from services.assessment.adapters.kafka_log import EndOffsets, HistoryReader
    from services.assessment.adapters.outbox import OutboxRelay
    from services.assessment.metrics import ConsumerMetrics
    from shared.producer import ReplaceableProducer

SAMPLE_EVERY_S = 2.0  # lag metrics

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
    await migrate_as_owner(settings, policy)
    url = settings.owner_url if as_owner else settings.database_url
    return await create_pool(url, size=settings.assessment_pool_size)


async def migrate_as_owner(settings: ProjectionSettings, policy: Policy) -> versions.Version:
    """Migrate and grant the service roles their rights, on one connection of the owner."""
    conn = await asyncpg.connect(settings.owner_url, timeout=CONNECT_TIMEOUT_S)
    try:
        live = await prepare_database(conn, policy)
        await grant_service_roles(
            conn, writer=role_of(settings.database_url), reader=role_of(settings.read_url)
        )
        return live
    finally:
        await conn.close()


DECODING = Decoding(decode_chunk=decode_chunk, start_worker=start_worker)


@contextlib.contextmanager
def rebuild_workers(count: int = REBUILD_WORKERS) -> Iterator[RebuildWorkers]:
    """`count` worker processes for a replay, rerule or switch, forked by the command
    before its event loop: they start at once, with what this process imported."""
    pool = RebuildWorkers(DECODING, count, forked=True)
    try:
        yield pool
    finally:
        pool.close()


def rebuild_ports(pool: asyncpg.Pool, *, database_url: str) -> RebuildPorts:
    """What `replay`, `rerule` and `versions switch` work through: PostgreSQL on `pool`;
    the rebuild lock on a connection of its own and the evaluation workers' connections,
    to `database_url` (the pool's, the owner's: the lock drops the builds a crash left
    behind); the decode and evaluation workers' functions."""
    return RebuildPorts(
        store=PgRebuildStore(pool, lock_url=database_url),
        decoding=DECODING,
        evaluating=Evaluating(evaluate_part=partial(scope_worker.evaluate_part, database_url)),
    )


def history_reader(settings: ProjectionSettings) -> HistoryReader:
    """events.v1 read outside any group (start it, stop it)."""
    from services.assessment.adapters.kafka_log import HistoryReader  # aiokafka: see below

    return HistoryReader(
        kafka=settings.kafka,
        topic=settings.topics.events,
        batch_records=settings.assessment_rebuild_batch,
    )


# Long enough for the largest batch to fold and commit on SIGTERM; the consumer then
# leaves the group (so the partitions move to another instance at once).
GRACEFUL_STOP_S = 30
READY_TIMEOUT_S = 2.0
_NOT_READY: tuple[type[Exception], ...] = (*DATABASE_UNAVAILABLE, NoLiveVersionError)


@dataclass
class Runtime:
    settings: AssessmentSettings
    pool: asyncpg.Pool
    read_pool: asyncpg.Pool  # the query API's: a read-only role, read-only transactions
    broker: KafkaBroker
    end_offsets: EndOffsets
    connector: Connector
    app: FastAPI
    relay: OutboxRelay
    producer: ReplaceableProducer
    metrics: ConsumerMetrics
    tasks: list[asyncio.Task[None]]

    def start_background(self) -> None:
        """The outbox relay and the lag sampler."""
        self.tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        self.tasks.append(asyncio.create_task(self._sample_lag(), name="lag-sampler"))

    async def _sample_lag(self) -> None:
        from services.assessment.adapters.outbox import pending_by_topic

        topic = self.settings.topics.events
        while True:
            ends = await self.end_offsets(topic)
            stored: dict[int, int] | None = None
            try:
                async with asyncio.timeout(SAMPLE_EVERY_S), self.pool.acquire() as conn:
                    live = await versions.live_version(conn)
                    if live is not None:
                        stored = await _stored_positions(conn, live.schema_name, topic)
                    pending = await pending_by_topic(conn)
                    known = self.settings.topics
                    idle = {known.assessment_deadletter: 0, known.assessment_changes: 0}
                    self.metrics.sample_outbox(idle | pending, self.relay.published)
            except Exception as error:  # noqa: BLE001 - the metrics show the stall instead
                log.debug("lag sampling: no positions from the database (%r)", error)
            if ends is not None:
                self.metrics.sample(topic, stored, ends)
            await asyncio.sleep(SAMPLE_EVERY_S)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve at once and connect in the background (start in any order); on the way
        out — after uvicorn finished the requests in flight — finish the batch in hand,
        commit it, leave the group, stop the relay, close the pool."""
        self.connector.start()
        self.start_background()
        try:
            yield
        finally:
            await self.connector.stop()
            try:
                await self.broker.stop()
                for task in self.tasks:
                    task.cancel()
                for task in self.tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await self.producer.stop()
                await self.end_offsets.stop()
            finally:
                await self.read_pool.close()
                await self.pool.close()


async def _stored_positions(conn: Connection, schema: str, topic: str) -> dict[int, int]:
    rows = await conn.fetch(sql_for(schema).positions, topic)
    return {row["partition"]: row["offset"] for row in rows}


async def build_runtime(settings: AssessmentSettings) -> Runtime:
    """Builds everything; connects to nothing (the connector does, in the background)."""
    # The service's own parts, imported here: the ops commands (replay, rerule, …) go
    # without FastAPI, FastStream, aiokafka and the metrics (a what-if never connects to
    # Kafka), and start about 0.7 s of CPU sooner.
    from faststream.kafka import KafkaBroker
    from prometheus_client import CollectorRegistry

    from services.assessment.adapters.kafka_log import EndOffsets
    from services.assessment.adapters.outbox import OutboxRelay
    from services.assessment.entrypoints.consumer import register_consumer
    from services.assessment.entrypoints.http.app import create_app
    from services.assessment.entrypoints.http.routes import QueryDeps
    from services.assessment.metrics import ConsumerMetrics, FoldHealth
    from shared.kafka_client import faststream_options
    from shared.kafka_topics import assessment_topics, ensure_topics
    from shared.producer import ReplaceableProducer

    policy = configured_policy(settings)  # fail fast on a bad policy file
    topics = settings.topics
    pool = await create_pool(settings.database_url, size=settings.assessment_pool_size, lazy=True)
    read_pool = await create_pool(
        settings.read_url, size=settings.assessment_pool_size, lazy=True, read_only=True
    )
    registry = CollectorRegistry()
    broker = KafkaBroker(
        **faststream_options(settings.kafka),
        client_id="assessment",
        enable_idempotence=True,
        acks="all",
        graceful_timeout=GRACEFUL_STOP_S,
        log_level=logging.DEBUG,  # per-batch "Received/Processed" lines
    )
    health = FoldHealth()
    metrics = ConsumerMetrics(registry, health)
    writer = ProjectionWriter(
        pool,
        deadletter_topic=topics.assessment_deadletter,
        changes_topic=topics.assessment_changes,
        on_rollback=metrics.rolled_back,
    )
    producer = ReplaceableProducer(kafka=settings.kafka, client_id="assessment")
    relay = OutboxRelay(pool=pool, producer=producer)

    async def fold_once(records: Sequence[Record], failed: Mapping[Position, str]) -> Folded:
        return await writer.run_live(lambda tx: fold(tx, records, failed=failed))

    isolating = IsolatingFold(
        fold_once, is_environment=is_environment_error, on_poison_failure=metrics.poison_failure
    )

    async def fold_live(records: Sequence[Record]) -> Folded:
        started = time.perf_counter()
        metrics.holding(records)
        folded = await isolating(records)
        metrics.observe(folded, time.perf_counter() - started, records)
        if folded.parked or folded.new_events:
            relay.wake()  # dead letters or the change feed may be waiting in the outbox
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
            on_failure=metrics.transient_failure,
        )

    read_model = ReadModel(read_pool)
    end_offsets = EndOffsets(kafka=settings.kafka)

    async def connect_database() -> None:
        # Migrations and grants as the owner; the service then works as the writer
        # (consumer, relay) and the reader (query API).
        await migrate_as_owner(settings, policy)

    async def connect_kafka() -> None:
        await ensure_topics(
            kafka=settings.kafka,
            specs=assessment_topics(topics),
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
        )
        await end_offsets.start()
        if settings.assessment_consumer:
            try:
                await broker.start()
            except BaseException:
                await broker.stop()  # the next attempt starts it afresh
                raise

    # The consumer starts only once the database is migrated and has a live version.
    connector = Connector(
        [Step("database", connect_database), Step("kafka", connect_kafka)], log=log
    )

    async def readiness() -> list[str]:
        """Stable codes for the unauthenticated /readyz; the details go to the log."""
        problems = connector.reasons()
        if problems:
            return problems
        try:
            async with asyncio.timeout(READY_TIMEOUT_S), read_model.snapshot():
                pass
        except Exception as error:
            # Any failure of the environment (e.g. a database that refuses connections,
            # SQLSTATE 55000) means not ready; anything else is a bug and stays a 500.
            if not (isinstance(error, _NOT_READY) or is_environment_error(error)):
                raise
            log.warning("not ready: database: %s", describe(error))
            problems.append("database_unavailable")
        if await end_offsets(topics.events) is None:
            problems.append("kafka_unavailable")
        if stalled := health.problem(settings.assessment_fold_stall_s):
            problems.append(stalled)
        return problems

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    app = create_app(
        query_deps=QueryDeps(
            read_model=read_model,
            topic=topics.events,
            end_offsets=end_offsets,
            clock=lambda: datetime.now(UTC),
            fold_health=lambda: health.as_dict(settings.assessment_fold_stall_s),
        ),
        read_tokens=settings.read_tokens,
        readiness=readiness,
        registry=registry,
        lifespan=lifespan,
    )
    runtime = Runtime(
        settings=settings,
        pool=pool,
        read_pool=read_pool,
        broker=broker,
        end_offsets=end_offsets,
        connector=connector,
        app=app,
        relay=relay,
        producer=producer,
        metrics=metrics,
        tasks=[],
    )
    return runtime


async def serve(settings: AssessmentSettings) -> None:
    import uvicorn  # the service's alone (see build_runtime)

    runtime = await build_runtime(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            runtime.app,
            host=settings.assessment_host,
            port=settings.assessment_port,
            # The app's lifespan connects and disconnects: inside uvicorn's signal
            # handling, so SIGTERM stops the consumer gracefully before the process ends.
            lifespan="on",
            log_level=settings.log_level.lower(),
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_STOP_S,
        )
    )
    await server.serve()
