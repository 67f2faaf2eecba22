"""Both services, started once for the e2e modules that only look at them (the dashboard
in a browser, the Prometheus scrape), with the demo's sample history folded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from demo.sample_history import sample_history
from tests.support.services import RunningServices, running_services


@pytest.fixture(scope="package")
async def services(
    kafka_bootstrap: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServices]:
    async with running_services(
        kafka_bootstrap=kafka_bootstrap,
        database_url=database_url,
        events=sample_history(),
        logs=tmp_path_factory.mktemp("services"),
    ) as running:
        yield running
