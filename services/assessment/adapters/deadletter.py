"""Dead letters of the assessment: records it cannot use, with the reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from services.assessment.service_layer.records import Poison
from shared import topics

log = logging.getLogger(__name__)


class KafkaDeadLetters:
    """Publishes poison to assessment.deadletter.v1 and waits for the broker's ack."""

    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self._broker = broker
        self._topic = topic

    async def send(self, poison: Sequence[Poison]) -> None:
        pending = [
            await self._broker.publish(
                item.record.value or b"",
                self._topic,
                key=item.record.key,
                headers={
                    topics.HEADER_DLQ_REASON: item.reason,
                    topics.HEADER_DLQ_ERRORS: item.errors,
                    topics.HEADER_DLQ_ORIGIN: item.record.origin,
                },
                no_confirm=True,
            )
            for item in poison
        ]
        await asyncio.gather(*pending)
        for item in poison:
            log.warning("dead-lettered %s: %s", item.record.origin, item.reason)


class LoggedDeadLetters:
    """For rebuilds: the live consumer already dead-lettered these; only count them."""

    def __init__(self) -> None:
        self.count = 0

    async def send(self, poison: Sequence[Poison]) -> None:
        self.count += len(poison)
