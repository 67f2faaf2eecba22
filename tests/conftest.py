"""Session fixtures: the real Kafka and PostgreSQL, isolated per test by name."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from shared.kafka_client import KafkaConnection
from tests.support.assessment_env import assessment_env
from tests.support.stack import Databases, PrivateBroker, Stack, resolve_stack

__all__ = ["assessment_env"]  # a fixture, shared by the integration and e2e tests


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    resolved = resolve_stack()
    try:
        yield resolved
    finally:
        resolved.close()


@pytest.fixture(scope="session")
def kafka(stack: Stack) -> KafkaConnection:
    """The shared broker, as its `admin` principal."""
    return stack.kafka


@pytest.fixture(scope="session")
def database_url(stack: Stack) -> str:
    """The owner role's URL: it may create databases (the tests' scratch ones)."""
    return stack.databases.owner


@pytest.fixture
def unique() -> str:
    """A short suffix that keeps topics, groups and databases of one test apart."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def scratch_databases(stack: Stack, unique: str) -> AsyncIterator[Databases]:
    """A database of the test's own on the real server (owned by the owner role),
    dropped afterwards; the same three roles as in production."""
    name = f"test_{unique}"
    database_url = stack.databases.owner
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield stack.databases.on(name)
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def scratch_database_url(scratch_databases: Databases) -> str:
    """The scratch database as its owner (migrations, inspection)."""
    return scratch_databases.owner


@pytest.fixture
def private_broker(unique: str) -> Iterator[PrivateBroker]:
    """A broker the test may stop and restart (never the shared one)."""
    broker = PrivateBroker(unique)
    broker.start()
    try:
        yield broker
    finally:
        broker.destroy()


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failed test: Kafka and PostgreSQL are always there."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and _ci() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped and _ci():
        terminalreporter.write_line(
            f"CI: {len(skipped)} test(s) skipped; every test must run in CI", red=True
        )
