"""Reading topics on the real broker, to their end (tests of both services)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.kafka_client import KafkaConnection, aiokafka_options
from shared.kafka_topics import admin_client, topic_partitions


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes | None]

    @property
    def body(self) -> bytes:
        assert self.value is not None, f"record {self.partition}/{self.offset} has no value"
        return self.value

    def header(self, name: str) -> bytes:
        value = self.headers[name]
        assert value is not None, f"header {name} has no value"
        return value

    @classmethod
    def of(cls, record: Any) -> Record:
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=dict(record.headers),
        )


async def partitions_of(kafka: KafkaConnection, topic: str) -> list[TopicPartition]:
    """The topic's partitions; none when it does not exist."""
    return [TopicPartition(topic, p) for p in await topic_partitions(kafka=kafka, topic=topic)]


async def read_topic(kafka: KafkaConnection, topic: str, *, committed: bool = True) -> list[Record]:
    """Every record on `topic` up to its end offsets as they are when called (none when
    the topic does not exist), in partition, offset order. `committed=False`: also the
    records of open and aborted transactions (what a read_uncommitted reader gets)."""
    partitions = await partitions_of(kafka, topic)
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(
        **aiokafka_options(kafka),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # As every reader of events.v1 reads it, unless the test looks behind that.
        isolation_level="read_committed" if committed else "read_uncommitted",
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Record] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            fetched = await consumer.getmany(*partitions, timeout_ms=1000)
            for batch in fetched.values():
                records.extend(Record.of(r) for r in batch)
    finally:
        await consumer.stop()
    return sorted(
        (r for r in records if r.offset < ends[TopicPartition(topic, r.partition)]),
        key=lambda r: (r.partition, r.offset),
    )


async def committed_offsets(kafka: KafkaConnection, group: str, topic: str) -> dict[int, int]:
    """partition -> the group's committed offset (partitions it never committed are absent)."""
    admin = admin_client(kafka)
    await admin.start()
    try:
        offsets: dict[Any, Any] = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


async def end_offsets(kafka: KafkaConnection, topic: str) -> dict[int, int]:
    """partition -> end offset, for partitions that hold records."""
    partitions = await partitions_of(kafka, topic)
    consumer = AIOKafkaConsumer(**aiokafka_options(kafka), enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items() if offset > 0}


async def group_members(kafka: KafkaConnection, group: str) -> int:
    """How many consumers the group has now (0 once the last one left it)."""
    admin = admin_client(kafka)
    await admin.start()
    try:
        (described,) = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    (_, _, _, _, _, members, *_) = described.groups[0]
    return len(members)


async def set_topic_config(kafka: KafkaConnection, topic: str, config: dict[str, str]) -> None:
    """Change a topic's configuration (e.g. max.message.bytes) on the broker."""
    admin = admin_client(kafka)
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, config)])
    finally:
        await admin.close()


@dataclass(frozen=True, order=True)
class PartitionState:
    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def under_replicated(self) -> bool:
        return set(self.isr) != set(self.replicas)


async def partition_states(
    kafka: KafkaConnection, topics: list[str] | None = None
) -> list[PartitionState]:
    """Leader, replicas and in-sync replicas of every partition of `topics` (None: of
    every topic the cluster has, its internal ones included)."""
    admin = admin_client(kafka)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return sorted(
        PartitionState(
            found["topic"],
            p["partition"],
            p["leader"],
            tuple(p["replicas"]),
            tuple(p["isr"]),
        )
        for found in described
        if found["error_code"] == 0
        for p in found["partitions"]
    )


async def topic_config(kafka: KafkaConnection, topic: str) -> dict[str, str]:
    """The topic's effective configuration, as the broker describes it."""
    admin = admin_client(kafka)
    await admin.start()
    try:
        (answer,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    (resource,) = answer.to_object()["resources"]
    return {entry["config_names"]: entry["config_value"] for entry in resource["config_entries"]}
