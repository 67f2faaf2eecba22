"""The background connector: steps in order, retried with backoff until they succeed,
the missing ones named for /readyz, one log line per change of state."""

from __future__ import annotations

import asyncio
import logging

import pytest

from shared.connecting import Connector, Step

pytestmark = pytest.mark.unit


class Flaky:
    """Fails `failures` times with the same error, then succeeds."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error


async def test_steps_run_in_order_until_each_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    database = Flaky(4, ConnectionRefusedError(111, "Connect call failed"))
    kafka = Flaky(2, RuntimeError("Unable to bootstrap\nsecond line"))
    connector = Connector(
        [Step("database", database), Step("kafka", kafka)],
        log=logging.getLogger("test.connector"),
        first_delay=0.001,
        max_delay=0.004,
    )
    assert connector.reasons() == ["database_connecting", "kafka_waiting_for_database"]
    with caplog.at_level(logging.INFO, logger="test.connector"):
        connector.start()
        await asyncio.wait_for(connector.connected.wait(), timeout=5)
        await connector.stop()

    assert connector.reasons() == []
    assert (database.calls, kafka.calls) == (5, 3)
    assert [r.getMessage() for r in caplog.records] == [
        "database unavailable (ConnectionRefusedError: [Errno 111] Connect call failed); "
        "connecting in the background",
        "database connected after 5 attempts",
        "kafka unavailable (RuntimeError: Unable to bootstrap); connecting in the background",
        "kafka connected after 3 attempts",
    ]


async def test_the_reason_names_the_last_failure_while_waiting() -> None:
    database = Flaky(10**9, TimeoutError())
    connector = Connector(
        [Step("database", database), Step("kafka", Flaky(0, RuntimeError()))],
        log=logging.getLogger("test.connector"),
        first_delay=0.001,
    )
    connector.start()
    try:
        while database.calls < 3:  # noqa: ASYNC110 - polling a plain counter
            await asyncio.sleep(0.001)
        assert connector.reasons() == ["database_unavailable", "kafka_waiting_for_database"]
        assert not connector.connected.is_set()
    finally:
        await connector.stop()
