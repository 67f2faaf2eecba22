"""The example .env of docker-compose.yml holds the digests of the contract's dev tokens,
as valid settings: `dev-token` and `dev-read-token` keep working, only as digests (compose
itself has no defaults: every secret comes from .env)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from services.intake.settings import parse_token_grants
from shared.tokens import is_digest, token_digest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


def default_of(service: str, variable: str) -> str:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    value = compose["services"][service]["environment"][variable]
    assert re.fullmatch(r"\$\{" + variable + r":\?set it in \.env\}", value), value
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    found = re.search(rf"^{variable}=(.*)$", example, re.M)
    assert found, variable
    return found.group(1)


def test_intake_default_is_the_digest_of_dev_token_for_any_source() -> None:
    grants = parse_token_grants(default_of("intake", "INTAKE_TOKENS"))

    assert grants == {token_digest("dev-token"): "*"}


def test_assessment_default_is_the_digest_of_dev_read_token() -> None:
    value = default_of("assessment", "READ_TOKENS")

    assert is_digest(value)
    assert value == token_digest("dev-read-token")
