"""The HTTP edges of CONTRACT.md as real clients meet them: the running services over a
real socket, through Python's urllib (which sends the whole body, then reads, and asks
for `Connection: close`) and httpx (keep-alive, streamed bodies)."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from shared.kafka_client import KafkaConnection
from shared.kafka_topics import delete_topics
from shared.tokens import new_token, token_digest
from tests.support.assessment_env import READ_TOKEN, AssessmentEnv
from tests.support.events import complaint_filed, to_json
from tests.support.processes import intake_process
from tests.support.stack import free_port

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
JSON = {"Content-Type": "application/json"}
# What an answer must never show: the drivers' and the runtime's own words.
INTERNALS = ("Traceback", "aiokafka", "Kafka" + "ConnectionError", "asyncpg", "postgresql://")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]

    def __post_init__(self) -> None:
        self.headers = {name.lower(): value for name, value in self.headers.items()}


@dataclass
class Intake:
    url: str
    token: str  # may send for any source
    limited: str  # a token of its own for the rate-limit test
    rotated_out: str  # was configured, is not any more


@pytest.fixture(scope="module")
def intake(kafka: KafkaConnection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Intake]:
    prefix = f"edges-{uuid.uuid4().hex[:8]}."
    token, limited, rotated_out = new_token(), new_token(), new_token()
    process = intake_process(
        env={**kafka.environment(), "KAFKA_TOPIC_PREFIX": prefix},
        port=free_port(),
        log=Path(tmp_path_factory.mktemp("intake")) / "intake.log",
        tokens=f"{token_digest(token)}=*;{token_digest(limited)}=*",
        extra={
            "INTAKE_RAW_GROUP": f"{prefix}raw",
            "TOPIC_PARTITIONS": "1",
            "INTAKE_RATE_PER_S": "0.5",
            "INTAKE_RATE_BURST": "20",
        },
    )
    process.start().wait_ready()
    try:
        yield Intake(f"http://127.0.0.1:{process.port}", token, limited, rotated_out)
    finally:
        process.stop()
        asyncio.run(delete_topics(kafka=kafka, prefix=prefix))


def urlopen(request: urllib.request.Request) -> Answer:
    try:
        with urllib.request.urlopen(request, timeout=30) as ok:
            return Answer(ok.status, dict(ok.headers), orjson.loads(ok.read()))
    except urllib.error.HTTPError as refused:
        return Answer(refused.code, dict(refused.headers), orjson.loads(refused.read()))


def with_urllib(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    return urlopen(urllib.request.Request(url, data=body, headers=headers, method="POST"))


def with_httpx(url: str, body: bytes | Iterator[bytes], headers: dict[str, str]) -> Answer:
    response = httpx.post(url, content=body, headers=headers, timeout=30)
    return Answer(response.status_code, dict(response.headers), response.json())


def post_both(intake: Intake, body: bytes, headers: dict[str, str]) -> list[Answer]:
    url = f"{intake.url}/v1/events"
    answers = [with_urllib(url, body, headers), with_httpx(url, body, headers)]
    for answer in answers:
        text = orjson.dumps(answer.body).decode()
        assert not any(word in text for word in INTERNALS), text
    return answers


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def event() -> dict[str, Any]:
    return to_json(complaint_filed())


def test_a_body_over_4_mib_gets_413_through_urllib_and_httpx(intake: Intake) -> None:
    body = b"[" + b" " * int(4.4 * MIB) + b"]"

    answers = post_both(intake, body, {**bearer(intake.token), **JSON})

    assert [(a.status, a.body["error"]) for a in answers] == [(413, "body_too_large")] * 2


def test_a_streamed_body_over_4_mib_gets_413(intake: Intake) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for _ in range(20):
            yield b" " * (256 * 1024)

    answer = with_httpx(f"{intake.url}/v1/events", chunks(), {**bearer(intake.token), **JSON})

    assert (answer.status, answer.body["error"]) == (413, "body_too_large")


def test_more_than_1000_events_get_413(intake: Intake) -> None:
    body = orjson.dumps([event() for _ in range(1001)])

    answers = post_both(intake, body, {**bearer(intake.token), **JSON})

    assert [(a.status, a.body["error"]) for a in answers] == [(413, "batch_too_large")] * 2


def test_a_body_that_is_not_json_gets_415(intake: Intake) -> None:
    body = orjson.dumps(event())
    # urllib's own default for a body: application/x-www-form-urlencoded
    url = f"{intake.url}/v1/events"
    defaulted = with_urllib(url, body, bearer(intake.token))
    answers = post_both(intake, body, {**bearer(intake.token), "Content-Type": "text/csv"})

    for answer in [defaulted, *answers]:
        assert (answer.status, answer.body["error"]) == (415, "unsupported_media_type")


def test_a_key_twice_in_one_object_gets_400(intake: Intake) -> None:
    body = b'{"unit_id": "qsb/other", ' + orjson.dumps(event())[1:]

    answers = post_both(intake, body, {**bearer(intake.token), **JSON})

    assert [(a.status, a.body["error"]) for a in answers] == [(400, "duplicate_key")] * 2
    assert "unit_id" in answers[0].body["detail"]


def test_wrong_and_rotated_out_tokens_get_401_even_with_a_large_body(intake: Intake) -> None:
    large = b"[" + b" " * (3 * MIB) + b"]"
    for token in ("not-a-token", intake.rotated_out, token_digest(intake.token)):
        answers = post_both(intake, large, {**bearer(token), **JSON})
        assert [(a.status, a.body["error"]) for a in answers] == [(401, "unauthorized")] * 2
        assert answers[0].headers["www-authenticate"].startswith("Bearer")

    accepted = post_both(intake, orjson.dumps(event()), {**bearer(intake.token), **JSON})
    assert [a.status for a in accepted] == [202, 202]


def test_a_token_over_its_rate_gets_429_with_retry_after(intake: Intake) -> None:
    url = f"{intake.url}/v1/events"
    statuses: list[int] = []
    with httpx.Client(headers={**bearer(intake.limited), **JSON}, timeout=30) as client:
        for _ in range(25):  # the burst is 20, refilled at 0.5/s
            answer = client.post(url, content=orjson.dumps(event()))
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                break
    limited = with_urllib(url, orjson.dumps(event()), {**bearer(intake.limited), **JSON})
    other = with_urllib(url, orjson.dumps(event()), {**bearer(intake.token), **JSON})

    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {202}, statuses
    assert len(statuses) > 20
    assert limited.status == 429
    assert limited.body["error"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 2
    assert other.status == 202  # another token has a bucket of its own


def test_the_read_api_refuses_wrong_and_rotated_out_tokens(assessment_env: AssessmentEnv) -> None:
    fresh = new_token()
    # READ_TOKEN (the fixture's) is rotated out: only the fresh token's digest is configured.
    service = assessment_env.start(extra={"READ_TOKENS": token_digest(fresh)}).wait_ready()
    base = f"http://127.0.0.1:{service.port}"

    def get(path: str, token: str | None) -> Answer:
        headers = bearer(token) if token else {}
        return urlopen(urllib.request.Request(f"{base}{path}", headers=headers))

    wrong = (None, "nope", READ_TOKEN, token_digest(fresh))
    refused = [get("/v1/status", token) for token in wrong]
    served = get("/v1/status", fresh)
    ready = get("/readyz", None)

    assert [a.status for a in refused] == [401, 401, 401, 401]
    assert all(a.headers["www-authenticate"] == "Bearer" for a in refused)
    assert served.status == 200
    assert ready.status == 200
    assert not any(word in str(a.body) for a in [*refused, served, ready] for word in INTERNALS)
