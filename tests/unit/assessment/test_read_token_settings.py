"""READ_TOKENS holds token digests: several for rotation, never a plain token."""

from __future__ import annotations

import pytest

from services.assessment.settings import AssessmentSettings
from shared.settings import SettingsError, load_settings
from shared.tokens import token_digest

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    # Kafka's own settings are not under test (SASL_SSL by default needs credentials)
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")


def test_several_digests_for_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = token_digest("old-token"), token_digest("new-token")
    monkeypatch.setenv("READ_TOKENS", f"{old}, {new}")

    settings = load_settings(AssessmentSettings)

    assert settings.read_tokens == frozenset({old, new})


@pytest.mark.parametrize("value", ["s3cret-read-token", f"{token_digest('a')},s3cret-read-token"])
def test_a_plain_token_is_a_settings_error_that_does_not_repeat_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("READ_TOKENS", value)

    with pytest.raises(SettingsError) as raised:
        load_settings(AssessmentSettings)

    assert "READ_TOKENS" in str(raised.value)
    assert "not a token digest" in str(raised.value)
    assert "s3cret-read-token" not in str(raised.value)
