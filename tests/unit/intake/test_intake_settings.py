"""IntakeSettings: defaults, INTAKE_TOKENS parsing, and fail-fast messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.intake.settings import IntakeSettings
from shared.settings import SettingsError, load_settings
from shared.tokens import token_digest

pytestmark = pytest.mark.unit

A, B = token_digest("token-a"), token_digest("token-b")

INTAKE_VARIABLES = [
    "INTAKE_HOST",
    "INTAKE_PORT",
    "INTAKE_TOKENS",
    "INTAKE_MAX_BODY_BYTES",
    "INTAKE_MAX_BATCH",
    "INTAKE_PUBLISH_TIMEOUT_S",
    "INTAKE_RETRY_AFTER_S",
    "INTAKE_RAW_GROUP",
    "INTAKE_RATE_PER_S",
    "INTAKE_RATE_BURST",
    "KAFKA_BOOTSTRAP",
    "KAFKA_TOPIC_PREFIX",
    "TOPIC_PARTITIONS",
    "TOPIC_REPLICATION",
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
    "KAFKA_SASL_PASSWORD_FILE",
    "KAFKA_CA_FILE",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in INTAKE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # SASL_SSL is the default: it needs a principal
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "intake")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "kafka-s3cret")


def failure(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(IntakeSettings)
    return str(raised.value)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_TOKENS", f'{{"{A}": "*"}}')

    settings = load_settings(IntakeSettings)

    assert settings.intake_host == "127.0.0.1"
    assert settings.intake_port == 8080
    assert settings.intake_tokens == {A: "*"}
    assert settings.intake_max_body_bytes == 4 * 1024 * 1024
    assert settings.intake_max_batch == 1000
    assert settings.intake_publish_timeout_s == 5.0
    assert settings.intake_retry_after_s == 2
    assert settings.intake_raw_group == "intake-raw"
    assert settings.intake_rate_per_s == 100.0
    assert settings.intake_rate_burst == 500
    assert settings.topics.events == "events.v1"
    assert settings.kafka.security_protocol == "SASL_SSL"
    assert settings.kafka.username == "intake"
    assert settings.kafka.password == "kafka-s3cret"
    assert "kafka-s3cret" not in repr(settings) + repr(settings.kafka)


def test_the_kafka_password_may_come_from_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "intake.password"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("KAFKA_SASL_PASSWORD")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", str(secret))
    monkeypatch.setenv("INTAKE_TOKENS", f'{{"{A}": "*"}}')

    assert load_settings(IntakeSettings).kafka.password == "from-a-file"


def test_sasl_ssl_without_a_principal_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_SASL_USERNAME")

    message = failure(monkeypatch, INTAKE_TOKENS=f'{{"{A}": "*"}}')

    assert "KAFKA_SASL_USERNAME" in message
    assert "kafka-s3cret" not in message


def test_a_missing_password_file_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_SASL_PASSWORD")

    message = failure(
        monkeypatch, INTAKE_TOKENS=f'{{"{A}": "*"}}', KAFKA_SASL_PASSWORD_FILE="/nonexistent/pw"
    )

    assert "KAFKA_SASL_PASSWORD_FILE" in message


def test_tokens_with_source_lists_and_a_topic_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_TOKENS", f'{{"{A}": "*", "{B}": ["hotline-95598", "hr-awards"]}}')
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "test-1.")
    monkeypatch.setenv("INTAKE_PORT", "18080")

    settings = load_settings(IntakeSettings)

    assert settings.intake_tokens == {A: "*", B: ("hotline-95598", "hr-awards")}
    assert settings.intake_port == 18080
    assert settings.topics.events == "test-1.events.v1"
    assert settings.topics.intake_raw == "test-1.intake.raw.v1"


def test_tokens_in_the_compact_form_of_compose_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_TOKENS", f"{A}=*;{B}=hotline-95598,case-system")

    settings = load_settings(IntakeSettings)

    assert settings.intake_tokens == {A: "*", B: ("hotline-95598", "case-system")}


def test_several_digests_may_grant_one_source_for_rotation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTAKE_TOKENS", f"{A}=hotline-95598;{B}=hotline-95598")

    settings = load_settings(IntakeSettings)

    assert settings.intake_tokens == {A: ("hotline-95598",), B: ("hotline-95598",)}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "INTAKE_TOKENS: Field required"),
        ({"INTAKE_TOKENS": "{dev-token: *}"}, "INTAKE_TOKENS: Value error, not valid JSON"),
        ({"INTAKE_TOKENS": "{}"}, "must name at least one token"),
        ({"INTAKE_TOKENS": f'["{A}"]'}, "must be a JSON object"),
        ({"INTAKE_TOKENS": '{"": "*"}'}, "token #1 is empty"),
        ({"INTAKE_TOKENS": f'{{"{A}": "*", " {B}": "*"}}'}, "token #2 is empty or has surrounding"),
        ({"INTAKE_TOKENS": '{"a b": "*"}'}, "token #1 contains whitespace"),
        # a plain token where its digest belongs
        ({"INTAKE_TOKENS": '{"dev-token": "*"}'}, "token #1 is not a token digest"),
        ({"INTAKE_TOKENS": f"{A}=*;dev-token=*"}, "token #2 is not a token digest"),
        ({"INTAKE_TOKENS": f"{A.upper()}=*"}, "token #1 is not a token digest"),
        ({"INTAKE_TOKENS": f"{A[:-1]}=*"}, "token #1 is not a token digest"),
        ({"INTAKE_TOKENS": f'{{"{A}": []}}'}, 'sources must be "*" or a non-empty list'),
        ({"INTAKE_TOKENS": f'{{"{A}": "all"}}'}, 'sources must be "*" or a non-empty list'),
        ({"INTAKE_TOKENS": f'{{"{A}": ["Hotline"]}}'}, "source 'Hotline' is not 1-64 chars"),
        ({"INTAKE_TOKENS": f'{{"{A}": [7]}}'}, "source 7 is not 1-64 chars"),
        ({"INTAKE_TOKENS": "dev-token"}, 'grant #1 has no "="'),
        ({"INTAKE_TOKENS": f"{A}=*;{B}=Bad Source"}, "source 'Bad Source' is not 1-64 chars"),
        ({"INTAKE_TOKENS": f"{A}=*", "INTAKE_PORT": "0"}, "INTAKE_PORT: Input should be"),
        (
            {"INTAKE_TOKENS": f"{A}=*", "INTAKE_MAX_BATCH": "5000"},
            "INTAKE_MAX_BATCH: Input should be less than or equal to 1000",
        ),
        (
            {"INTAKE_TOKENS": f"{A}=*", "INTAKE_PUBLISH_TIMEOUT_S": "soon"},
            "INTAKE_PUBLISH_TIMEOUT_S: Input should be a valid number",
        ),
        (
            {"INTAKE_TOKENS": f"{A}=*", "INTAKE_RATE_PER_S": "0"},
            "INTAKE_RATE_PER_S: Input should be greater than 0",
        ),
        (
            {"INTAKE_TOKENS": f"{A}=*", "KAFKA_TOPIC_PREFIX": "bad prefix/"},
            "KAFKA_TOPIC_PREFIX: String should match pattern",
        ),
    ],
)
def test_fails_fast_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    message = failure(monkeypatch, **env)

    assert message.startswith("invalid configuration (IntakeSettings):")
    assert expected in message


def test_every_problem_is_listed_and_no_token_is_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    message = failure(
        monkeypatch, INTAKE_TOKENS='{"s3cret-token": ["Bad Source"]}', INTAKE_PORT="99999"
    )

    assert "INTAKE_TOKENS" in message
    assert "INTAKE_PORT" in message
    assert "s3cret-token" not in message


def test_a_plain_token_is_refused_without_being_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    message = failure(monkeypatch, INTAKE_TOKENS="s3cret-token=*")

    assert "INTAKE_TOKENS" in message
    assert "sha256:" in message  # says what belongs there
    assert "s3cret-token" not in message
