"""Tokens as digests, rotation, and the rate limit per token (429 with Retry-After)."""

from __future__ import annotations

import httpx
import orjson
import pytest

from services.intake.entrypoints.http import create_app
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from shared.tokens import new_token, token_digest
from tests.support.events import complaint_filed, to_wire
from tests.unit.intake.fakes import FakePublisher
from tests.unit.intake.harness import auth

pytestmark = pytest.mark.unit


async def client_for(**settings: object) -> httpx.AsyncClient:
    publisher = FakePublisher()
    app = create_app(
        settings=IntakeSettings(kafka_security_protocol="PLAINTEXT", **settings),  # type: ignore[arg-type]
        publisher=publisher,
        readiness=publisher,
        metrics=IntakeMetrics(),
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake")


async def post(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/v1/events", content=to_wire(complaint_filed()), headers=auth(token))


async def test_old_and_new_token_both_work_while_rotating_then_the_old_one_is_refused() -> None:
    old, new = new_token(), new_token()
    during = {token_digest(old): ["hotline-95598"], token_digest(new): ["hotline-95598"]}
    after = {token_digest(new): ["hotline-95598"]}

    async with await client_for(intake_tokens=during) as client:
        assert (await post(client, old)).status_code == 202
        assert (await post(client, new)).status_code == 202
    async with await client_for(intake_tokens=after) as client:
        rotated_out = await post(client, old)
        assert (await post(client, new)).status_code == 202

    assert rotated_out.status_code == 401
    assert rotated_out.json()["error"] == "unauthorized"


async def test_the_digest_itself_is_not_a_token() -> None:
    token = new_token()
    async with await client_for(intake_tokens={token_digest(token): "*"}) as client:
        response = await post(client, token_digest(token))

    assert response.status_code == 401


async def test_a_token_over_its_rate_gets_429_with_retry_after_and_others_do_not() -> None:
    busy, calm = new_token(), new_token()
    tokens = {token_digest(busy): "*", token_digest(calm): "*"}
    async with await client_for(
        intake_tokens=tokens, intake_rate_per_s=0.5, intake_rate_burst=3
    ) as client:
        statuses = [(await post(client, busy)).status_code for _ in range(3)]
        limited = await post(client, busy)
        other = await post(client, calm)

    assert statuses == [202, 202, 202]
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 2  # one request back at 0.5/s
    assert other.status_code == 202


async def test_a_limited_request_is_refused_before_its_body_is_looked_at() -> None:
    token = new_token()
    async with await client_for(
        intake_tokens={token_digest(token): "*"}, intake_rate_per_s=0.01, intake_rate_burst=1
    ) as client:
        await post(client, token)
        response = await client.post("/v1/events", content=b"{not json", headers=auth(token))

    assert response.status_code == 429
    assert set(orjson.loads(response.content)) >= {"error", "detail"}
