"""Intake's settings: one pydantic-settings class, read from the environment.

Variable names are the field names upper-cased (no prefix), e.g. `INTAKE_TOKENS`.
`load_settings(IntakeSettings)` fails fast with every bad variable named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from shared.settings import KafkaSettings
from shared.tokens import check_digest

ANY_SOURCE: Literal["*"] = "*"
MAX_BATCH = 1000  # CONTRACT.md: an array of 1-1000 envelopes
MAX_BODY_BYTES = 4 * 1024 * 1024  # CONTRACT.md: max 4 MiB
DEFAULT_RAW_GROUP = "intake-raw"
_SOURCE = re.compile(r"^[a-z0-9._-]{1,64}$")

# token digest (sha256:<hex>) -> the sources it may send for, or "*" for any source
TokenGrants = dict[str, tuple[str, ...] | Literal["*"]]


class IntakeSettings(KafkaSettings):
    """Everything the intake service reads from its environment."""

    intake_host: str = Field(default="127.0.0.1", min_length=1, description="HTTP bind address.")
    intake_port: int = Field(default=8080, ge=1, le=65535, description="HTTP port.")
    intake_tokens: Annotated[TokenGrants, NoDecode] = Field(
        description=(
            'Token digests and their sources: {"sha256:<hex>": ["source", ...] or "*"} or '
            "sha256:<hex>=source1,source2;sha256:<hex>=* (`intake tokens new` prints one)."
        ),
        examples=['{"sha256:9f86d0...": "*", "sha256:2c26b4...": ["hotline-95598"]}'],
    )
    intake_max_body_bytes: int = Field(
        default=MAX_BODY_BYTES, ge=1024, le=MAX_BODY_BYTES, description="Largest request body."
    )
    intake_max_batch: int = Field(
        default=MAX_BATCH, ge=1, le=MAX_BATCH, description="Most events in one request."
    )
    intake_publish_timeout_s: float = Field(
        default=5.0, gt=0, le=120, description="How long a request waits for Kafka's acks."
    )
    intake_recent_ids: int = Field(
        default=100_000,
        ge=0,
        le=10_000_000,
        description="Recently accepted (source, id) pairs remembered to answer 409 to a "
        "reuse with other content (0: only within one request).",
    )
    intake_retry_after_s: int = Field(
        default=2, ge=1, le=3600, description="Retry-After sent with a 503."
    )
    intake_rate_per_s: float = Field(
        default=100.0,
        gt=0,
        le=1_000_000,
        description="Requests per second each token may make on average (429 beyond).",
    )
    intake_rate_burst: int = Field(
        default=500, ge=1, le=1_000_000, description="Requests a token may make at once."
    )
    intake_transactions: bool = Field(
        default=True,
        description="Publish each batch in one Kafka transaction (all of it or none).",
    )
    intake_producers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Transactional producers shared by concurrent requests (one open "
        "transaction each).",
    )
    intake_instance: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]{0,100}$",
        description="This instance's name in its transactional ids (intake-<instance>-<n>); "
        "stable across restarts, unique among running instances. Empty: <host>-<port>.",
    )
    intake_raw_group: str = Field(
        default=DEFAULT_RAW_GROUP,
        pattern=r"^[A-Za-z0-9._-]{1,200}$",
        description="Consumer group of the Kafka-native intake (intake.raw.v1).",
    )

    @field_validator("intake_tokens", mode="before")
    @classmethod
    def _parse_tokens(cls, value: Any) -> TokenGrants:
        return parse_token_grants(value)


def parse_token_grants(value: Any) -> TokenGrants:
    """Decode and check INTAKE_TOKENS; messages never repeat a token or digest.

    Two forms: a JSON object {"sha256:<hex>": ["source", ...] or "*"}, or the compact
    `sha256:<hex>=source1,source2;sha256:<hex>=*` that is easy to write in compose files.
    A plain token where a digest belongs is refused: it would be a secret in the clear.
    """
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        looks_json = value.lstrip().startswith(("{", "["))
        value = _json(value) if looks_json else _compact_grants(value)
    if not isinstance(value, Mapping):
        raise ValueError('must be a JSON object {"token": ["source", ...] or "*"}')
    if not value:
        raise ValueError("must name at least one token")
    grants: TokenGrants = {}
    for position, (token, sources) in enumerate(value.items(), start=1):
        where = f"token #{position}"
        if not isinstance(token, str) or not token.strip() or token != token.strip():
            raise ValueError(f"{where} is empty or has surrounding whitespace")
        if any(ch.isspace() or not ch.isprintable() for ch in token):
            raise ValueError(f"{where} contains whitespace or control characters")
        grants[check_digest(token, where)] = _parse_sources(sources, where)
    return grants


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValueError(f"not valid JSON ({error.__class__.__name__})") from None


def _compact_grants(text: str) -> dict[str, Any]:
    grants: dict[str, Any] = {}
    for position, part in enumerate(filter(None, text.split(";")), start=1):
        token, equals, sources = part.partition("=")
        if not equals:
            raise ValueError(
                f'grant #{position} has no "=": use sha256:<hex>=source1,source2 or '
                "sha256:<hex>=* (or a JSON object)"
            )
        grants[token.strip()] = (
            ANY_SOURCE if sources.strip() == ANY_SOURCE else sources.strip().split(",")
        )
    return grants


def _parse_sources(sources: Any, where: str) -> tuple[str, ...] | Literal["*"]:
    if sources == ANY_SOURCE:
        return ANY_SOURCE
    if not isinstance(sources, list | tuple) or not sources:
        raise ValueError(f'{where}: sources must be "*" or a non-empty list of source names')
    for source in sources:
        if not isinstance(source, str) or not _SOURCE.match(source):
            raise ValueError(f"{where}: source {source!r} is not 1-64 chars of [a-z0-9._-]")
    return tuple(sources)
