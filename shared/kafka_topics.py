"""Creates the platform's topics at start-up when they are missing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.kafka_client import KafkaConnection, aiokafka_options
from shared.topics import TopicNames

log = logging.getLogger(__name__)

UNLIMITED = "-1"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    config: dict[str, str] = field(default_factory=dict)


def platform_topics(names: TopicNames) -> tuple[TopicSpec, ...]:
    """Every topic of the contract. events.v1 is the system of record: it is never
    deleted by time or size; dead letters are kept for ops to inspect and replay."""
    return (*intake_topics(names), *assessment_topics(names)[1:])


def intake_topics(names: TopicNames) -> tuple[TopicSpec, ...]:
    """The topics intake uses (and may create: its ACLs allow no others)."""
    return (
        TopicSpec(names.events, {"retention.ms": UNLIMITED, "retention.bytes": UNLIMITED}),
        TopicSpec(names.intake_raw),
        TopicSpec(names.intake_deadletter, {"retention.ms": UNLIMITED}),
    )


def assessment_topics(names: TopicNames) -> tuple[TopicSpec, ...]:
    """The topics the assessment uses (and may create)."""
    return (
        TopicSpec(names.events, {"retention.ms": UNLIMITED, "retention.bytes": UNLIMITED}),
        TopicSpec(names.assessment_deadletter, {"retention.ms": UNLIMITED}),
        # The change feed is kept whole: a new subscriber rebuilds its view from the start.
        TopicSpec(names.assessment_changes, {"retention.ms": UNLIMITED}),
    )


def admin_client(kafka: KafkaConnection) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**aiokafka_options(kafka), request_timeout_ms=10_000)


def replication_for(brokers: int) -> int:
    """The replication factor of a new topic on a cluster of `brokers` nodes: three
    copies where there are three nodes (one may be lost), else one per node."""
    return max(1, min(3, brokers))


def replication_config(replication: int) -> dict[str, str]:
    """With three copies or more, a write (acks=all) is acknowledged once two nodes
    hold it: a node may be lost without losing an acknowledged record, and producers
    still write while one is down. With fewer, the broker's default (1) stands."""
    return {"min.insync.replicas": "2"} if replication >= 3 else {}


async def ensure_topics(
    *,
    kafka: KafkaConnection,
    specs: tuple[TopicSpec, ...],
    partitions: int,
    replication: int | None = None,
) -> list[str]:
    """Create the missing topics; returns the names it created. `replication` None: by
    the cluster, `replication_for` the brokers its metadata lists (a node that is down
    when a topic is created is not counted)."""
    admin = admin_client(kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if not missing:
            return []
        if replication is None:
            brokers = len((await admin.describe_cluster())["brokers"])
            replication = replication_for(brokers)
        new_topics = [
            NewTopic(
                spec.name,
                partitions,
                replication,
                topic_configs={**replication_config(replication), **spec.config},
            )
            for spec in missing
        ]
        try:
            await admin.create_topics(new_topics)
        except TopicAlreadyExistsError:
            # Another instance created them between our list and create: fine.
            log.info("topics created concurrently by another instance")
        created = [spec.name for spec in missing]
        log.info(
            "created topics %s with %d partitions, replication factor %d",
            created,
            partitions,
            replication,
        )
        return created
    finally:
        await admin.close()


async def topic_partitions(*, kafka: KafkaConnection, topic: str) -> list[int]:
    """The topic's partition numbers ([] when it does not exist).

    The admin API answers for any topic; a consumer only knows the metadata of the
    topics it subscribed to.
    """
    admin = admin_client(kafka)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(
        partition["partition"]
        for found in described
        if found["topic"] == topic and found["error_code"] == 0
        for partition in found["partitions"]
    )


async def delete_topics(*, kafka: KafkaConnection, prefix: str) -> list[str]:
    """Delete every topic whose name starts with `prefix` (tests and benchmarks clean
    up their prefixed topics); returns the names deleted."""
    if not prefix:
        raise ValueError("refusing to delete topics without a prefix")
    admin = admin_client(kafka)
    await admin.start()
    try:
        doomed = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
        return doomed
    finally:
        await admin.close()


@dataclass(frozen=True, slots=True)
class StoredRecord:
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


async def read_to_end(*, kafka: KafkaConnection, topic: str, limit: int) -> list[StoredRecord]:
    """The topic's records from the start to its end as it stands now (at most `limit`,
    the oldest first per partition); for ops commands such as `intake deadletters list`.
    Joins no group and commits nothing (so it needs READ on the topic and no group ACL)."""
    partitions = [
        TopicPartition(topic, p) for p in await topic_partitions(kafka=kafka, topic=topic)
    ]
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(
        **aiokafka_options(kafka),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",  # never a batch intake aborted
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        # Explicit offsets: after end_offsets(), seek_to_beginning() left the position at
        # the end (aiokafka 0.14, seen on transactional topics), and nothing was read.
        for tp, start in (await consumer.beginning_offsets(partitions)).items():
            consumer.seek(tp, start)
        found: list[StoredRecord] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining and len(found) < limit:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batches.items():
                found.extend(
                    StoredRecord(
                        r.partition,
                        r.offset,
                        r.timestamp,
                        r.key,
                        r.value,
                        {k: v or b"" for k, v in r.headers},
                    )
                    for r in records
                    if r.offset < ends[tp]
                )
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return found[:limit]
    finally:
        await consumer.stop()
