"""A real intake (real producer, real broker, in-process ASGI) for integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from services.intake.bootstrap import IntakeService, build_service
from services.intake.settings import IntakeSettings
from shared.kafka_client import KafkaConnection
from shared.kafka_topics import delete_topics
from shared.tokens import token_digest

TOKEN = "it-token"


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def settings_for(kafka: KafkaConnection, unique: str, **overrides: object) -> IntakeSettings:
    values: dict[str, object] = {
        # None, not unset: the process's own KAFKA_* variables must not fill the gaps
        **{name.lower(): value or None for name, value in kafka.environment().items()},
        "kafka_topic_prefix": f"it-{unique}.",
        "topic_partitions": 3,
        "intake_raw_group": f"intake-raw-{unique}",
        "intake_tokens": {token_digest(TOKEN): "*"},
        **overrides,
    }
    return IntakeSettings(**values)  # type: ignore[arg-type]


@dataclass
class RunningIntake:
    client: httpx.AsyncClient
    service: IntakeService
    settings: IntakeSettings


@asynccontextmanager
async def running_intake(
    settings: IntakeSettings, *, raw_intake: bool = True, delete_afterwards: bool = True
) -> AsyncIterator[RunningIntake]:
    """Starts the service as its lifespan does, talks to it through ASGI, and deletes
    the test's topics afterwards (on the shared broker)."""
    service = build_service(settings, raw_intake=raw_intake)
    try:
        async with service.runtime.running():
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
                yield RunningIntake(client=client, service=service, settings=settings)
    finally:
        if delete_afterwards:
            await delete_topics(kafka=settings.kafka, prefix=settings.kafka_topic_prefix)
