"""Both services, started once for the e2e modules that only look at them (the dashboard
in a browser, the Prometheus scrape), with the demo's sample history folded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from demo.sample_history import sample_history
from shared.kafka_client import KafkaConnection
from tests.support.services import RunningServices, running_services
from tests.support.stack import Stack


@pytest.fixture(scope="package")
async def services(
    kafka: KafkaConnection, stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServices]:
    async with running_services(
        kafka=kafka,
        databases=stack.databases,
        events=sample_history(),
        logs=tmp_path_factory.mktemp("services"),
    ) as running:
        yield running
