"""Who may do what on the cluster: the platform's ACL scheme, least rights per
principal, and the admin operations that apply it (ACLs, SCRAM users).

Principals (SCRAM users): `admin` (ops, a super user), `intake`, `assessment`, and one
`source.<name>` per upstream source, which may write only `intake.raw.v1.<name>`.
Every grant names the (optionally prefixed, KAFKA_TOPIC_PREFIX) topic names, so a test
run on a shared broker gets the same scheme on its own topics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.client import AIOKafkaClient

from shared.kafka_admin_requests import (
    Binding,
    CreateAcls,
    DeleteAcls,
    UpsertScramSha512,
    errors_in,
)
from shared.kafka_client import KafkaConnection, aiokafka_options
from shared.topics import TopicNames

Resource = Literal["topic", "group", "cluster", "transactional_id"]
Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE"]

_RESOURCE = {"topic": 2, "group": 3, "cluster": 4, "transactional_id": 5}
_OPERATION = {"READ": 3, "WRITE": 4, "CREATE": 5, "DESCRIBE": 8}
_LITERAL, _PREFIXED = 3, 4
_ALLOW = 3
ANY_HOST = "*"


def source_principal(source: str) -> str:
    return f"source.{source}"


@dataclass(frozen=True, slots=True)
class Acl:
    """`principal` may do `operation` on the resource `name` (or every name starting
    with it, when `prefixed`)."""

    principal: str
    resource: Resource
    name: str
    operation: Operation
    prefixed: bool = False

    def binding(self) -> Binding:
        return (
            _RESOURCE[self.resource],
            self.name,
            _PREFIXED if self.prefixed else _LITERAL,
            f"User:{self.principal}",
            ANY_HOST,
            _OPERATION[self.operation],
            _ALLOW,
        )


def _on_topic(principal: str, topic: str, *operations: Operation) -> list[Acl]:
    return [Acl(principal, "topic", topic, op) for op in operations]


# Intake's transactional producers are named intake-<instance>-<n> (intake bootstrap).
INTAKE_TRANSACTIONAL_PREFIX = "intake-"


def intake_acls(principal: str, topics: TopicNames, *, group: str) -> list[Acl]:
    """Reads every raw topic (intake.raw.v1 and intake.raw.v1.<source>, by prefix) in its
    own group; writes events.v1 and its dead letters, and reads them back outside any
    group (`intake deadletters list`); may create the topics it uses; publishes through
    transactional ids of its own prefix (a batch is one transaction)."""
    transactional = INTAKE_TRANSACTIONAL_PREFIX
    return [
        Acl(principal, "transactional_id", transactional, "WRITE", prefixed=True),
        Acl(principal, "transactional_id", transactional, "DESCRIBE", prefixed=True),
        Acl(principal, "topic", topics.intake_raw, "READ", prefixed=True),
        Acl(principal, "topic", topics.intake_raw, "DESCRIBE", prefixed=True),
        *_on_topic(principal, topics.intake_raw, "CREATE"),
        *_on_topic(principal, topics.events, "WRITE", "DESCRIBE", "CREATE"),
        *_on_topic(principal, topics.intake_deadletter, "READ", "WRITE", "DESCRIBE", "CREATE"),
        Acl(principal, "group", group, "READ"),
    ]


def assessment_acls(principal: str, topics: TopicNames, *, group: str) -> list[Acl]:
    """Reads events.v1 in group `group` only; writes its dead letters and its change
    feed (through the outbox relay's idempotent producer: since Kafka 3.0 WRITE on a
    topic is enough for InitProducerId, no IdempotentWrite on the cluster), and reads the
    feed back outside any group (`assessment changes tail`); may create the topics it
    uses."""
    return [
        *_on_topic(principal, topics.events, "READ", "DESCRIBE", "CREATE"),
        *_on_topic(principal, topics.assessment_deadletter, "WRITE", "DESCRIBE", "CREATE"),
        *_on_topic(principal, topics.assessment_changes, "READ", "WRITE", "DESCRIBE", "CREATE"),
        Acl(principal, "group", group, "READ"),
    ]


def source_acls(principal: str, topics: TopicNames, *, source: str) -> list[Acl]:
    """An upstream source writes its own raw topic, and nothing else."""
    return _on_topic(principal, topics.raw_of_source(source), "WRITE", "DESCRIBE")


def any_source_acls(principal: str, topics: TopicNames) -> list[Acl]:
    """A principal trusted with every source (a gateway) writes intake.raw.v1."""
    return _on_topic(principal, topics.intake_raw, "WRITE", "DESCRIBE")


class KafkaAccessError(RuntimeError):
    """The broker refused an admin request (the messages say why)."""


async def _send(kafka: KafkaConnection, request: Any) -> Any:
    client = AIOKafkaClient(**aiokafka_options(kafka), client_id="service-norm-admin")
    await client.bootstrap()
    try:
        response = await client.send(client.get_random_node(), request)
    finally:
        await client.close()
    problems = errors_in(response)
    if problems:
        raise KafkaAccessError("; ".join(problems))
    return response


async def grant(kafka: KafkaConnection, acls: Iterable[Acl]) -> None:
    """Create the bindings (an existing one is left as it is: idempotent)."""
    bindings = [acl.binding() for acl in acls]
    if bindings:
        await _send(kafka, CreateAcls(bindings))


async def revoke(kafka: KafkaConnection, acls: Sequence[Acl]) -> None:
    bindings = [acl.binding() for acl in acls]
    if bindings:
        await _send(kafka, DeleteAcls(bindings))


async def set_password(kafka: KafkaConnection, user: str, password: str) -> None:
    """Create `user` (or change its password), SCRAM-SHA-512."""
    await _send(kafka, UpsertScramSha512(user, password))
