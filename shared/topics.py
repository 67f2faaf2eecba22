"""Kafka topic names and message headers (CONTRACT.md)."""

from __future__ import annotations

from dataclasses import dataclass

EVENTS = "events.v1"
INTAKE_RAW = "intake.raw.v1"
INTAKE_DEADLETTER = "intake.deadletter.v1"
ASSESSMENT_DEADLETTER = "assessment.deadletter.v1"
ASSESSMENT_CHANGES = "assessment.changes.v1"

# Headers intake puts on every events.v1 record (values are UTF-8 bytes).
HEADER_EVENT_TYPE = "event-type"
HEADER_EVENT_SOURCE = "event-source"
HEADER_EVENT_ID = "event-id"
HEADER_SCHEMA_VERSION = "schema-version"
HEADER_CONTENT_TYPE = "content-type"
# Headers on dead-letter records.
HEADER_DLQ_REASON = "dlq-reason"
HEADER_DLQ_ERRORS = "dlq-errors"
HEADER_DLQ_ORIGIN = "dlq-origin"  # topic/partition/offset the record came from
HEADER_DLQ_TOPIC = "dlq-origin-topic"  # the same, one value per header
HEADER_DLQ_PARTITION = "dlq-origin-partition"
HEADER_DLQ_OFFSET = "dlq-origin-offset"


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The contract's topic names, optionally prefixed (KAFKA_TOPIC_PREFIX).

    The prefix exists so that tests and parallel environments can share one broker;
    production leaves it empty and uses the contract's names as they are.
    """

    events: str = EVENTS
    intake_raw: str = INTAKE_RAW
    intake_deadletter: str = INTAKE_DEADLETTER
    assessment_deadletter: str = ASSESSMENT_DEADLETTER
    assessment_changes: str = ASSESSMENT_CHANGES

    @classmethod
    def with_prefix(cls, prefix: str) -> TopicNames:
        return cls(
            events=prefix + EVENTS,
            intake_raw=prefix + INTAKE_RAW,
            intake_deadletter=prefix + INTAKE_DEADLETTER,
            assessment_deadletter=prefix + ASSESSMENT_DEADLETTER,
            assessment_changes=prefix + ASSESSMENT_CHANGES,
        )
