"""The narrow ports the use cases and entrypoints publish through: adapters/ implements
them (a fake stands in for them in unit tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.intake.domain.records import OutboundRecord


class PublishError(Exception):
    """Kafka did not acknowledge every record; the caller may retry (idempotency key)."""


class PublishTimeoutError(PublishError):
    """Kafka did not acknowledge every record within the publish timeout."""


class RecordTooLargeError(PublishError):
    """A record is larger than Kafka accepts; checked before anything is sent."""

    def __init__(self, index: int, size: int, limit: int) -> None:
        super().__init__(f"record {index} is {size} bytes; Kafka takes at most {limit}")
        self.index = index
        self.size = size
        self.limit = limit


class Publisher(Protocol):
    async def publish(self, records: Sequence[OutboundRecord]) -> None:
        """Return once Kafka acknowledged every record (acks=all).

        Raises `RecordTooLargeError` before sending anything, `PublishTimeoutError` or
        `PublishError` when some records may or may not have been written.
        """
        ...


class Readiness(Protocol):
    async def check_ready(self) -> None:
        """Return when Kafka answers a metadata request; raise with the reason otherwise."""
        ...
