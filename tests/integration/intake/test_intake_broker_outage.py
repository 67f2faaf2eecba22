"""While Kafka is down intake answers 503 with Retry-After, promptly; then recovers."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from shared.events import parse_recorded
from tests.integration.intake.harness import auth, running_intake, settings_for
from tests.support.events import complaint_filed, to_wire
from tests.support.stack import PrivateBroker
from tests.support.topics import read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

PUBLISH_TIMEOUT_S = 2.0


async def test_503_while_the_broker_is_down_and_202_after_it_restarts(
    private_broker: PrivateBroker, unique: str
) -> None:
    settings = settings_for(
        private_broker.kafka,
        unique,
        topic_partitions=1,
        intake_publish_timeout_s=PUBLISH_TIMEOUT_S,
        intake_retry_after_s=3,
    )
    before, during, after = complaint_filed(), complaint_filed(), complaint_filed()
    async with running_intake(settings, delete_afterwards=False) as intake:

        async def post(event_wire: bytes) -> httpx.Response:
            return await intake.client.post("/v1/events", content=event_wire, headers=auth())

        assert (await post(to_wire(before))).status_code == 202

        await asyncio.to_thread(private_broker.stop)
        started = time.monotonic()
        refused = await post(to_wire(during))
        elapsed = time.monotonic() - started
        not_ready = await intake.client.get("/readyz")

        await asyncio.to_thread(private_broker.start)
        recovered = await wait_for(
            lambda: post(to_wire(after)),
            until=lambda response: response.status_code == 202,
            timeout=90,
            interval=0.5,
            what="a 202 after the broker restarted",
        )
        ready = await wait_for(
            lambda: intake.client.get("/readyz"),
            until=lambda response: response.status_code == 200,
            what="/readyz after the restart",
        )
        ids = {
            parse_recorded(r.body).id
            for r in await read_topic(private_broker.kafka, settings.topics.events)
        }

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "3"
    assert refused.json()["error"] == "kafka_unavailable"
    assert elapsed < PUBLISH_TIMEOUT_S + 1.5  # bounded by the publish timeout: never a hang
    assert not_ready.status_code == 503
    assert recovered.json() == {"accepted": 1, "ids": [after.id]}
    assert ready.json() == {"status": "ready"}
    assert {before.id, after.id} <= ids
