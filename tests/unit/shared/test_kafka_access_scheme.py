"""The platform's Kafka access scheme (shared/kafka_acls.py) and client options
(shared/kafka_client.py), without a broker: what each principal is granted, and that
every client option set carries TLS and SASL."""

from __future__ import annotations

import re
import ssl

import pytest

from shared.kafka_acls import (
    Acl,
    any_source_acls,
    assessment_acls,
    intake_acls,
    source_acls,
    source_principal,
)
from shared.kafka_client import KafkaConnection, aiokafka_options, faststream_options
from shared.topics import TopicNames

pytestmark = pytest.mark.unit

TOPICS = TopicNames.with_prefix("t1.")


def rights(acls: list[Acl]) -> set[tuple[str, str, str, bool]]:
    return {(acl.resource, acl.name, acl.operation, acl.prefixed) for acl in acls}


def test_a_source_may_write_its_own_raw_topic_only() -> None:
    granted = rights(source_acls(source_principal("hotline-95598"), TOPICS, source="hotline-95598"))

    assert granted == {
        ("topic", "t1.intake.raw.v1.hotline-95598", "WRITE", False),
        ("topic", "t1.intake.raw.v1.hotline-95598", "DESCRIBE", False),
    }


def test_a_source_name_cannot_widen_its_topic() -> None:
    for bad in ("", "*", "a/b", "UPPER", "x" * 65):
        with pytest.raises(ValueError, match="source name"):
            source_acls("p", TOPICS, source=bad)


def test_intake_reads_raw_input_writes_events_and_reads_back_its_dead_letters() -> None:
    granted = rights(intake_acls("intake", TOPICS, group="intake-raw"))

    writes = {name for kind, name, op, _ in granted if op == "WRITE" and kind == "topic"}
    reads = {(name, prefixed) for kind, name, op, prefixed in granted if op == "READ"}
    assert writes == {"t1.events.v1", "t1.intake.deadletter.v1"}
    # A batch is one transaction, under transactional ids of intake's own prefix only.
    assert {acl for acl in granted if acl[0] == "transactional_id"} == {
        ("transactional_id", "intake-", "WRITE", True),
        ("transactional_id", "intake-", "DESCRIBE", True),
    }
    assert reads == {
        ("t1.intake.raw.v1", True),
        ("intake-raw", False),
        ("t1.intake.deadletter.v1", False),  # `intake deadletters list`, outside any group
    }
    assert ("group", "intake-raw", "READ", False) in granted


def test_assessment_reads_events_in_its_group_only_and_its_own_feed() -> None:
    granted = rights(assessment_acls("assessment", TOPICS, group="assessment"))

    reads = {(kind, name) for kind, name, op, _ in granted if op == "READ"}
    writes = {name for _, name, op, _ in granted if op == "WRITE"}
    assert reads == {
        ("topic", "t1.events.v1"),
        ("group", "assessment"),
        ("topic", "t1.assessment.changes.v1"),  # `assessment changes tail`, outside any group
    }
    assert writes == {"t1.assessment.deadletter.v1", "t1.assessment.changes.v1"}
    assert not any(prefixed for *_, prefixed in granted)


def test_a_gateway_writes_the_shared_raw_topic() -> None:
    assert rights(any_source_acls("gateway", TOPICS)) == {
        ("topic", "t1.intake.raw.v1", "WRITE", False),
        ("topic", "t1.intake.raw.v1", "DESCRIBE", False),
    }


def test_raw_topics_and_the_source_they_carry() -> None:
    pattern = re.compile(TOPICS.raw_pattern)

    assert TOPICS.source_of_raw("t1.intake.raw.v1") is None  # any source
    assert TOPICS.source_of_raw("t1.intake.raw.v1.hr-awards") == "hr-awards"
    assert pattern.match("t1.intake.raw.v1")
    assert pattern.match("t1.intake.raw.v1.hr-awards")
    assert not pattern.match("t1.intake.raw.v10")
    assert not pattern.match("intake.raw.v1.hr-awards")  # another prefix's topics
    with pytest.raises(ValueError, match="not a raw topic"):
        TOPICS.source_of_raw("t1.events.v1")


def test_every_client_option_set_carries_tls_and_scram() -> None:
    kafka = KafkaConnection(
        bootstrap="b:9092",
        security_protocol="SASL_SSL",
        username="intake",
        password="s3cret",
    )

    options = aiokafka_options(kafka)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "intake"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    security = faststream_options(kafka)["security"]
    assert security is not None
    assert security.use_ssl
    assert "s3cret" not in repr(kafka)


def test_sasl_ssl_without_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="username and a password"):
        KafkaConnection(bootstrap="b:9092", security_protocol="SASL_SSL", username="x")


def test_a_child_process_gets_the_whole_connection() -> None:
    plain = KafkaConnection(bootstrap="b:9092").environment()

    # blanks: nothing inherited from the parent's environment survives
    assert plain["KAFKA_SASL_USERNAME"] == plain["KAFKA_SASL_PASSWORD_FILE"] == ""
    assert plain["KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT"
