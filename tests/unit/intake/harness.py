"""What the intake unit tests share: tokens, the app under test and its parts."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from shared.tokens import token_digest
from tests.unit.intake.fakes import FakePublisher

ANY_TOKEN = "tok-any-source"
HOTLINE_TOKEN = "tok-hotline"
TOKENS = {token_digest(ANY_TOKEN): "*", token_digest(HOTLINE_TOKEN): ["hotline-95598"]}


@dataclass
class Intake:
    client: httpx.AsyncClient
    publisher: FakePublisher
    metrics: IntakeMetrics
    settings: IntakeSettings


def auth(token: str = ANY_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
