"""The broker itself refuses what a principal may not do (SASL_SSL, StandardAuthorizer,
the platform's ACL scheme): tried with real clients, the way kcat would.

Each test makes principals of its own (SCRAM users with random passwords, through the
admin API) and applies the platform's own scheme (shared/kafka_acls.py) to topics with
a prefix of its own, on the shared broker."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from shared.events import parse_recorded
from shared.kafka_acls import (
    Acl,
    grant,
    intake_acls,
    revoke,
    set_password,
    source_acls,
    source_principal,
)
from shared.kafka_client import KafkaConnection, aiokafka_options
from shared.kafka_topics import TopicSpec, delete_topics, ensure_topics, platform_topics
from shared.topics import TopicNames
from tests.integration.intake.harness import running_intake, settings_for
from tests.support.events import complaint_filed, to_wire
from tests.support.topics import read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

CONNECT_TIMEOUT_S = 30


@dataclass
class Scene:
    """Topics with the test's prefix, and the ACLs granted on them (revoked after)."""

    admin: KafkaConnection
    prefix: str
    topics: TopicNames
    granted: list[Acl]

    async def principal(self, name: str, acls: list[Acl]) -> KafkaConnection:
        password = secrets.token_hex(16)
        await set_password(self.admin, name, password)
        await grant(self.admin, acls)
        self.granted.extend(acls)
        return self.admin.as_principal(name, password)


@pytest.fixture
async def scene(kafka: KafkaConnection, unique: str) -> AsyncIterator[Scene]:
    prefix = f"sec-{unique}."
    topics = TopicNames.with_prefix(prefix)
    await ensure_topics(kafka=kafka, specs=platform_topics(topics), partitions=1)
    made = Scene(admin=kafka, prefix=prefix, topics=topics, granted=[])
    yield made
    await revoke(kafka, made.granted)
    await delete_topics(kafka=kafka, prefix=prefix)


async def produce(kafka: KafkaConnection, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(**aiokafka_options(kafka), acks="all", request_timeout_ms=10_000)
    await producer.start()
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()


async def test_a_client_without_credentials_cannot_connect(kafka: KafkaConnection) -> None:
    assert kafka.secured, "the broker under test must be the secured one"
    plaintext = KafkaConnection(bootstrap=kafka.bootstrap)  # no TLS, no SASL
    producer = AIOKafkaProducer(**aiokafka_options(plaintext), request_timeout_ms=5_000)

    with pytest.raises(KafkaConnectionError):
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await producer.start()
    await producer.stop()


async def test_a_wrong_password_cannot_connect(kafka: KafkaConnection) -> None:
    assert kafka.username is not None
    impostor = kafka.as_principal(kafka.username, "not-" + secrets.token_hex(8))
    producer = AIOKafkaProducer(**aiokafka_options(impostor), request_timeout_ms=5_000)

    with pytest.raises(KafkaError):
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await producer.start()
    await producer.stop()


async def test_a_source_writes_its_own_raw_topic_and_nothing_else(
    scene: Scene, unique: str
) -> None:
    mine, theirs = f"hot-{unique}", f"app-{unique}"
    topics = scene.topics
    for name in (mine, theirs):
        topic = TopicSpec(topics.raw_of_source(name))
        await ensure_topics(kafka=scene.admin, specs=(topic,), partitions=1)
    source = await scene.principal(
        source_principal(mine), source_acls(source_principal(mine), topics, source=mine)
    )
    envelope = to_wire(complaint_filed(source=mine))

    await produce(source, topics.raw_of_source(mine), envelope)  # allowed

    for forbidden in (topics.events, topics.raw_of_source(theirs), topics.intake_raw):
        with pytest.raises(TopicAuthorizationFailedError):
            await produce(source, forbidden, envelope)
    assert await read_topic(scene.admin, topics.events) == []
    assert len(await read_topic(scene.admin, topics.raw_of_source(mine))) == 1


async def test_a_principal_outside_the_acl_cannot_join_group_assessment(scene: Scene) -> None:
    # It may even read the topic: the group is what it is refused.
    reader = await scene.principal(
        f"outsider-{scene.prefix.strip('.')}",
        [Acl(f"outsider-{scene.prefix.strip('.')}", "topic", scene.topics.events, "READ")],
    )
    consumer = AIOKafkaConsumer(
        scene.topics.events,
        **aiokafka_options(reader),
        group_id="assessment",
        auto_offset_reset="earliest",
    )

    async def join() -> None:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await consumer.start()
            await consumer.getmany(timeout_ms=5_000)

    with pytest.raises(GroupAuthorizationFailedError):
        await join()
    await consumer.stop()


async def test_intake_with_least_rights_dead_letters_a_source_its_topic_does_not_carry(
    kafka: KafkaConnection, unique: str
) -> None:
    """Intake runs as a principal with only the intake scheme's rights; a source
    principal writes its own topic, once for itself and once claiming another source."""
    settings = settings_for(kafka, unique)  # the topics it-<unique>.*
    topics = settings.topics
    mine = f"hot-{unique}"
    await ensure_topics(
        kafka=kafka,
        specs=(*platform_topics(topics), TopicSpec(topics.raw_of_source(mine))),
        partitions=3,
    )
    scene = Scene(admin=kafka, prefix=settings.kafka_topic_prefix, topics=topics, granted=[])
    intake_name = f"intake-{unique}"
    try:
        intake = await scene.principal(
            intake_name, intake_acls(intake_name, topics, group=settings.intake_raw_group)
        )
        source = await scene.principal(
            source_principal(mine), source_acls(source_principal(mine), topics, source=mine)
        )
        own = complaint_filed(source=mine)
        forged = complaint_filed(source="hotline-95598")
        as_intake = settings_for(intake, unique)
        async with running_intake(as_intake, delete_afterwards=False):
            await produce(source, topics.raw_of_source(mine), to_wire(own))
            await produce(source, topics.raw_of_source(mine), to_wire(forged))

            events = await wait_for(
                lambda: read_topic(kafka, topics.events), until=bool, what="the forward"
            )
            letters = await wait_for(
                lambda: read_topic(kafka, topics.intake_deadletter),
                until=bool,
                what="the dead letter",
            )
    finally:
        await revoke(kafka, scene.granted)
        await delete_topics(kafka=kafka, prefix=settings.kafka_topic_prefix)

    assert [parse_recorded(r.body).key for r in events] == [own.key]
    [letter] = letters
    assert letter.header("dlq-reason") == b"source_not_allowed"
    assert letter.body == to_wire(forged)
    assert orjson.loads(letter.header("dlq-errors"))[0]["loc"] == ["source"]
