"""An intake app wired to a fake publisher, driven in-process through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.intake.bootstrap import configured_sources
from services.intake.entrypoints.http import create_app
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from tests.unit.intake.fakes import FakePublisher
from tests.unit.intake.harness import TOKENS, Intake


@pytest.fixture
def intake_settings() -> IntakeSettings:
    return IntakeSettings(
        intake_tokens=TOKENS,  # type: ignore[arg-type]
        kafka_topic_prefix="",
        kafka_security_protocol="PLAINTEXT",
    )


@pytest.fixture
async def intake(intake_settings: IntakeSettings) -> AsyncIterator[Intake]:
    publisher = FakePublisher()
    metrics = IntakeMetrics(configured_sources(intake_settings))
    app = create_app(
        settings=intake_settings, publisher=publisher, readiness=publisher, metrics=metrics
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield Intake(client=client, publisher=publisher, metrics=metrics, settings=intake_settings)
