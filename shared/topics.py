"""Kafka topic names and message headers (CONTRACT.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

EVENTS = "events.v1"
INTAKE_RAW = "intake.raw.v1"  # for principals allowed every source
INTAKE_DEADLETTER = "intake.deadletter.v1"
ASSESSMENT_DEADLETTER = "assessment.deadletter.v1"
ASSESSMENT_CHANGES = "assessment.changes.v1"
# One raw topic per upstream source, intake.raw.v1.<source>: only that source's
# principal may write it, so the broker vouches for the records' `source`.
SOURCE_NAME = re.compile(r"^[a-z0-9._-]{1,64}$")

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

    def raw_of_source(self, source: str) -> str:
        """The raw topic only `source`'s principal may write."""
        if not SOURCE_NAME.match(source):
            raise ValueError(f"{source!r} is not a source name (1-64 chars of [a-z0-9._-])")
        return f"{self.intake_raw}.{source}"

    @property
    def raw_pattern(self) -> str:
        """Regex of every raw topic intake reads: intake.raw.v1 and intake.raw.v1.<source>."""
        return f"^{re.escape(self.intake_raw)}(\\.[a-z0-9._-]+)?$"

    def source_of_raw(self, topic: str) -> str | None:
        """The one source a raw topic carries; None for intake.raw.v1 (any source)."""
        if topic == self.intake_raw:
            return None
        source = topic.removeprefix(self.intake_raw + ".")
        if source != topic and SOURCE_NAME.match(source):
            return source
        raise ValueError(f"{topic} is not a raw topic")
