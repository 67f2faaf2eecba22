"""Fakes behind intake's narrow ports (unit tests only)."""

from __future__ import annotations

from collections.abc import Sequence

from services.intake.domain.records import OutboundRecord
from services.intake.service_layer.ports import PublishError, RecordTooLargeError


class FakePublisher:
    """Records what it is asked to publish; can refuse like Kafka would."""

    def __init__(self, *, max_value_bytes: int = 1024 * 1024) -> None:
        self.published: list[OutboundRecord] = []
        self.calls = 0
        self.failure: PublishError | None = None
        self.ready_failure: PublishError | None = None
        self.max_value_bytes = max_value_bytes

    async def publish(self, records: Sequence[OutboundRecord]) -> None:
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        for index, record in enumerate(records):
            size = len(record.value or b"")
            if size > self.max_value_bytes:
                raise RecordTooLargeError(index, size, self.max_value_bytes)
        self.published.extend(records)

    async def check_ready(self) -> None:
        if self.ready_failure is not None:
            raise self.ready_failure
