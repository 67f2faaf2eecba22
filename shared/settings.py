"""Settings helpers shared by both services.

Each service has its own pydantic-settings `Settings`; this module holds the parts
they share and `load_settings`, which turns a validation error into a readable
message naming every bad variable, instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self, TypeVar

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from shared.kafka_client import KafkaConnection, SecurityProtocol
from shared.topics import TopicNames

S = TypeVar("S", bound=BaseSettings)


class SettingsError(ValueError):
    """The environment is not usable; entrypoints print it and exit with status 2."""


class KafkaSettings(BaseSettings):
    """Connection to the Kafka cluster that holds the event log."""

    # env_ignore_empty: an empty variable counts as unset (KafkaConnection.environment
    # blanks the credentials a child process would otherwise inherit).
    model_config = SettingsConfigDict(extra="ignore", frozen=True, env_ignore_empty=True)

    kafka_bootstrap: str = Field(
        default="localhost:9092",
        min_length=1,
        description="Comma-separated host:port list (KAFKA_BOOTSTRAP).",
    )
    topic_partitions: int = Field(
        default=6, ge=1, le=1000, description="Partitions of topics created at start-up."
    )
    kafka_topic_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Prefix for every topic name; empty in production (tests share a broker).",
    )
    topic_replication: int | None = Field(
        default=None,
        ge=1,
        le=10,
        description="Replication factor of topics created at start-up; unset: 3 on a "
        "cluster of 3+ brokers (with min.insync.replicas=2), else one per broker.",
    )
    kafka_security_protocol: SecurityProtocol = Field(
        default="SASL_SSL",
        description="SASL_SSL (SCRAM-SHA-512 over TLS, the default) or PLAINTEXT.",
    )
    kafka_sasl_username: str | None = Field(
        default=None, min_length=1, description="This process's Kafka principal (SCRAM)."
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="Its password; or KAFKA_SASL_PASSWORD_FILE."
    )
    kafka_sasl_password_file: Path | None = Field(
        default=None, description="A file holding the password (first line)."
    )
    kafka_ca_file: Path | None = Field(
        default=None, description="PEM CA of the broker's certificate (system CAs if unset)."
    )

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.kafka_sasl_password is not None and self.kafka_sasl_password_file is not None:
            raise ValueError("set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both")
        if self.kafka_sasl_password_file is not None:
            try:
                text = self.kafka_sasl_password_file.read_text().splitlines()
            except OSError as error:
                raise ValueError(f"KAFKA_SASL_PASSWORD_FILE: {error.strerror}") from None
            if not text or not text[0]:
                raise ValueError("KAFKA_SASL_PASSWORD_FILE is empty")
            object.__setattr__(self, "kafka_sasl_password", SecretStr(text[0]))
        if self.kafka_security_protocol == "SASL_SSL" and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                "KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME and "
                "KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)"
            )
        if self.kafka_ca_file is not None and not self.kafka_ca_file.is_file():
            raise ValueError(f"KAFKA_CA_FILE {self.kafka_ca_file} does not exist")
        return self

    @property
    def topics(self) -> TopicNames:
        return TopicNames.with_prefix(self.kafka_topic_prefix)

    @property
    def kafka(self) -> KafkaConnection:
        """The connection every Kafka client of this process uses (shared/kafka_client.py)."""
        password = self.kafka_sasl_password
        return KafkaConnection(
            bootstrap=self.kafka_bootstrap,
            security_protocol=self.kafka_security_protocol,
            username=self.kafka_sasl_username,
            password=password.get_secret_value() if password is not None else None,
            ca_file=self.kafka_ca_file,
        )


def load_settings(cls: type[S]) -> S:
    """Build `cls` from the environment, or fail fast with every problem listed."""
    try:
        return cls()
    except ValidationError as error:
        problems = "\n".join(f"  {_env_name(err['loc'])}: {err['msg']}" for err in error.errors())
        raise SettingsError(f"invalid configuration ({cls.__name__}):\n{problems}") from None
    except SourceError as error:
        # pydantic-settings could not even decode a variable (e.g. bad JSON in a
        # complex field): report it the same way instead of as a traceback.
        raise SettingsError(f"invalid configuration ({cls.__name__}):\n  {error}") from None


def _env_name(loc: tuple[int | str, ...]) -> str:
    return "_".join(str(part) for part in loc).upper() or "(settings)"
