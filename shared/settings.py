"""Settings helpers shared by both services.

Each service has its own pydantic-settings `Settings`; this module holds the parts
they share and `load_settings`, which turns a validation error into a readable
message naming every bad variable, instead of a traceback.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from shared.topics import TopicNames

S = TypeVar("S", bound=BaseSettings)


class SettingsError(ValueError):
    """The environment is not usable; entrypoints print it and exit with status 2."""


class KafkaSettings(BaseSettings):
    """Connection to the Kafka cluster that holds the event log."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

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
    topic_replication: int = Field(
        default=1, ge=1, le=10, description="Replication factor of topics created at start-up."
    )

    @property
    def topics(self) -> TopicNames:
        return TopicNames.with_prefix(self.kafka_topic_prefix)


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
