"""Assessment service settings, from the environment (names = field names upper-cased)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from shared.settings import KafkaSettings
from shared.tokens import check_digest


class ProjectionSettings(KafkaSettings):
    """What the projections need: the ops commands (replay, versions) use only this."""

    database_url: str = Field(
        min_length=1,
        pattern=r"^postgres(ql)?://",
        description=(
            "PostgreSQL URL of the consumer's writer role, e.g. "
            "postgresql://user:password@host:5432/db (DATABASE_URL)."
        ),
    )
    database_owner_url: str | None = Field(
        default=None,
        pattern=r"^postgres(ql)?://",
        description=(
            "URL of the role that owns the schemas: migrations, replays, dropping versions "
            "(DATABASE_OWNER_URL; DATABASE_URL when unset)."
        ),
    )
    database_read_url: str | None = Field(
        default=None,
        pattern=r"^postgres(ql)?://",
        description=(
            "URL of the read-only role the query API uses (DATABASE_READ_URL; DATABASE_URL "
            "when unset)."
        ),
    )
    assessment_policy_file: Path | None = Field(
        default=None,
        description="Policy of the first projection version; the packaged default when unset.",
    )
    assessment_group: str = Field(default="assessment", min_length=1)
    assessment_batch_max: int = Field(
        default=2000, ge=1, le=100_000, description="Most records folded in one transaction."
    )
    assessment_batch_wait_ms: int = Field(default=50, ge=0, le=10_000)
    assessment_pool_size: int = Field(default=8, ge=2, le=100)
    assessment_rebuild_batch: int = Field(
        default=20_000, ge=100, le=1_000_000, description="Records per rebuild transaction."
    )
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @property
    def owner_url(self) -> str:
        return self.database_owner_url or self.database_url

    @property
    def read_url(self) -> str:
        return self.database_read_url or self.database_url

    @field_validator("assessment_policy_file")
    @classmethod
    def _policy_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"policy file {value} does not exist")
        return value


class AssessmentSettings(ProjectionSettings):
    """The running service: projections plus the query API."""

    read_tokens: Annotated[frozenset[str], NoDecode] = Field(
        min_length=1,
        description="Comma-separated digests (sha256:<hex>) of the read tokens allowed to "
        "query (READ_TOKENS); `assessment tokens new` prints one.",
    )
    assessment_host: str = "127.0.0.1"
    assessment_port: int = Field(default=8081, ge=1, le=65535)
    assessment_consumer: bool = Field(
        default=True, description="Run the consumer in this process (false: query API only)."
    )
    assessment_fold_stall_s: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="/readyz answers 503 once the fold has failed for this long (seconds).",
    )

    @field_validator("read_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            value = [token.strip() for token in value.split(",") if token.strip()]
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(
                check_digest(str(digest), f"token #{position}")
                for position, digest in enumerate(value, start=1)
            )
        return value
