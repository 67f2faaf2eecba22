"""Every way POST /v1/events refuses a request, in one table; nothing is ever published."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from tests.support.events import complaint_filed, complaint_resolved, inspection_recorded, to_json
from tests.unit.intake.harness import ANY_TOKEN, HOTLINE_TOKEN, Intake, auth

pytestmark = pytest.mark.unit

MIB = 1024 * 1024


def valid() -> dict[str, Any]:
    return to_json(complaint_filed())


def with_(**changes: Any) -> bytes:
    event = valid()
    for key, value in changes.items():
        if key.startswith("data_"):
            event["data"][key.removeprefix("data_")] = value
        else:
            event[key] = value
    return orjson.dumps(event)


def without(name: str) -> bytes:
    event = valid()
    del event[name]
    return orjson.dumps(event)


def dup_key(extra: bytes) -> bytes:
    """A valid event whose object starts with `extra`, a key the event has too."""
    return b"{" + extra + orjson.dumps(valid())[1:]


def batch(*events: dict[str, Any]) -> bytes:
    return orjson.dumps(list(events))


def future_time() -> str:
    return (datetime.now(UTC) + timedelta(minutes=10)).isoformat()


def resolved_with(**data: Any) -> bytes:
    event = to_json(complaint_resolved())
    event["data"].update(data)
    return orjson.dumps(event)


def finding_with_code(code: str) -> bytes:
    event = to_json(inspection_recorded())
    event["data"]["findings"][0]["code"] = code
    return orjson.dumps(event)


async def chunks(total: int, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


@dataclass(frozen=True)
class Case:
    id: str
    body: Callable[[], Any]  # bytes, or an async iterator (streamed, no Content-Length)
    status: int
    error: str | None = None  # the "error" code of a 4xx body
    errors: list[tuple[int, list[Any], str]] = field(default_factory=list)  # 422 (index, loc, msg)
    token: str | None = ANY_TOKEN
    headers: dict[str, str] = field(default_factory=dict)
    sources_vary: bool = False  # a token limited to hotline-95598 gets a 403 instead


CASES = [
    # 400: the body as a whole
    Case("malformed-json", lambda: b'{"id": "c-1", ', 400, "malformed_json"),
    Case("not-utf8", lambda: b'{"id": "\xff\xfe"}', 400, "malformed_json"),
    Case("empty-body", lambda: b"", 400, "malformed_json"),
    Case("top-level-string", lambda: b'"complaint.filed"', 400, "not_object_or_array"),
    Case("top-level-number", lambda: b"42", 400, "not_object_or_array"),
    Case("top-level-null", lambda: b"null", 400, "not_object_or_array"),
    Case("empty-array", lambda: b"[]", 400, "empty_batch"),
    # 400: a key twice in one object (which value counts would be a guess)
    Case("duplicate-key", lambda: dup_key(b'"unit_id":"qsb/a",'), 400, "duplicate_key"),
    Case(
        "duplicate-key-escaped",  # "\u0069d" is "id" spelt with an escape
        lambda: dup_key(b'"\\u0069d":"c-2",'),
        400,
        "duplicate_key",
    ),
    Case(
        "duplicate-key-in-data",
        lambda: orjson.dumps(valid()).replace(b'"data":{', b'"data":{"channel":"web",'),
        400,
        "duplicate_key",
    ),
    Case(
        "duplicate-key-in-batch",
        lambda: b"[" + orjson.dumps(valid()) + b"," + dup_key(b'"type":"complaint.filed",') + b"]",
        400,
        "duplicate_key",
    ),
    # 413: too large, declared or streamed, or too many events
    Case("batch-over-1000", lambda: batch(*[valid()] * 1001), 413, "batch_too_large"),
    Case("body-over-4mib", lambda: b" " * (4 * MIB + 1), 413, "body_too_large"),
    Case("streamed-over-4mib", lambda: chunks(4 * MIB + 1), 413, "body_too_large"),
    # 415: not declared as JSON in UTF-8
    Case(
        "form-content-type",  # what `curl -d` sends unless told otherwise
        lambda: orjson.dumps(valid()),
        415,
        "unsupported_media_type",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Case(
        "text-content-type",
        lambda: orjson.dumps(valid()),
        415,
        "unsupported_media_type",
        headers={"Content-Type": "text/plain"},
    ),
    Case(
        "json-in-latin1",
        lambda: orjson.dumps(valid()),
        415,
        "unsupported_media_type",
        headers={"Content-Type": "application/json; charset=iso-8859-1"},
    ),
    # 401 / 403: who may send what
    Case("missing-token", lambda: orjson.dumps(valid()), 401, "unauthorized", token=None),
    Case("unknown-token", lambda: orjson.dumps(valid()), 401, "unauthorized", token="nope"),
    Case(
        "not-bearer",
        lambda: orjson.dumps(valid()),
        401,
        "unauthorized",
        token=None,
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
    ),
    Case(
        "forbidden-source",
        lambda: batch(valid(), {**valid(), "source": "hr-awards"}),
        403,
        "forbidden_source",
        token=HOTLINE_TOKEN,
    ),
    # 422: field errors, located relative to the event
    Case(
        "unknown-field",
        lambda: with_(colour="red"),
        422,
        errors=[(0, ["colour"], "Extra inputs are not permitted")],
    ),
    Case(
        "unknown-data-field",
        lambda: with_(data_colour="red"),
        422,
        errors=[(0, ["data", "colour"], "Extra inputs are not permitted")],
    ),
    Case(
        "naive-time",
        lambda: with_(occurred_at="2026-01-05T09:30:00"),
        422,
        errors=[(0, ["occurred_at"], "Input should have timezone info")],
    ),
    Case(
        "future-time",
        lambda: with_(occurred_at=future_time()),
        422,
        errors=[(0, ["occurred_at"], "occurred_at is more than 5 minutes in the future")],
    ),
    Case(
        "time-not-a-string",
        lambda: with_(occurred_at=1767576600),
        422,
        errors=[(0, ["occurred_at"], "Input should be a valid datetime")],
    ),
    Case(
        "source-charset",
        lambda: with_(source="Hotline 95598"),
        422,
        errors=[(0, ["source"], "String should match pattern '^[a-z0-9._-]{1,64}$'")],
        sources_vary=True,
    ),
    Case(
        "source-too-long",
        lambda: with_(source="s" * 65),
        422,
        errors=[(0, ["source"], "String should match pattern '^[a-z0-9._-]{1,64}$'")],
        sources_vary=True,
    ),
    Case(
        "id-too-long",
        lambda: with_(id="c" * 129),
        422,
        errors=[(0, ["id"], "String should match pattern '^[\\x21-\\x7e]{1,128}$'")],
    ),
    Case(
        "unit-charset",
        lambda: with_(unit_id="qsb licensing"),
        422,
        errors=[(0, ["unit_id"], "String should match pattern '^[A-Za-z0-9._:/-]{1,64}$'")],
    ),
    Case(
        "unknown-category",
        lambda: with_(data_category="bogus"),
        422,
        errors=[(0, ["data", "category"], "Input should be 'delay', ")],
    ),
    Case(
        "unknown-finding-code",
        lambda: finding_with_code("sleeping"),
        422,
        errors=[(0, ["data", "findings", 0, "code"], "Input should be 'late_arrival', ")],
        sources_vary=True,  # inspection-app
    ),
    Case(
        "unknown-type",
        lambda: with_(type="complaint.closed"),
        422,
        errors=[(0, ["type"], "Input should be one of complaint.filed, ")],
    ),
    Case(
        "missing-type",
        lambda: without("type"),
        422,
        errors=[(0, ["type"], "Field required")],
    ),
    Case(
        "missing-unit",
        lambda: without("unit_id"),
        422,
        errors=[(0, ["unit_id"], "Field required")],
    ),
    Case(
        "number-for-string",
        lambda: with_(staff_id=7),
        422,
        errors=[(0, ["staff_id"], "Input should be a valid string")],
    ),
    Case(
        "string-for-bool",
        lambda: resolved_with(obstructed="true"),
        422,
        errors=[(0, ["data", "obstructed"], "Input should be a valid boolean")],
    ),
    Case(
        "recorded-at-sent",
        lambda: with_(recorded_at="2026-01-05T09:31:00Z"),
        422,
        errors=[(0, ["recorded_at"], "recorded_at is set by intake and must not be sent")],
    ),
    Case(
        "invalid-event-in-batch",
        lambda: batch(valid(), valid(), {**valid(), "unit_id": ""}),
        422,
        errors=[(2, ["unit_id"], "String should match pattern")],
    ),
    Case(
        "non-object-in-batch",
        lambda: batch(valid(), 5),  # type: ignore[arg-type]
        422,
        errors=[(1, [], "Input should be an object")],
    ),
]


RESTRICTED_CASES = [c for c in CASES if c.token == ANY_TOKEN and not c.sources_vary]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_refused_and_nothing_published(intake: Intake, case: Case) -> None:
    await check_refusal(intake, case, case.token)


@pytest.mark.parametrize("case", RESTRICTED_CASES, ids=[c.id for c in RESTRICTED_CASES])
async def test_refused_alike_for_a_token_limited_to_some_sources(
    intake: Intake, case: Case
) -> None:
    # Such a token takes another path (its sources are checked before validation).
    await check_refusal(intake, case, HOTLINE_TOKEN)


async def check_refusal(intake: Intake, case: Case, token: str | None) -> None:
    headers = {**(auth(token) if token else {}), **case.headers}

    response = await intake.client.post("/v1/events", content=case.body(), headers=headers)

    assert response.status_code == case.status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    if case.status == 422:
        assert set(body) == {"errors"}
        got = [(e["index"], e["loc"], e["msg"]) for e in body["errors"]]
        for index, loc, msg in case.errors:
            assert any(g[0] == index and g[1] == loc and g[2].startswith(msg) for g in got), got
    else:
        assert body["error"] == case.error
        assert body["detail"]
    assert intake.publisher.published == []
    assert intake.publisher.calls == 0


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"],
)
async def test_json_content_types_are_accepted(intake: Intake, content_type: str | None) -> None:
    headers = {**auth(), **({"Content-Type": content_type} if content_type else {})}

    body = orjson.dumps(valid())

    response = await intake.client.post("/v1/events", content=body, headers=headers)

    assert response.status_code == 202, response.text


async def test_colons_in_text_and_escaped_colons_are_not_mistaken_for_keys(intake: Intake) -> None:
    event = valid()
    event["data"]["summary"] = 'said "x": y, then {"id": 1}'
    body = orjson.dumps(event).replace(b"then", b"\\u003a then")  # an escaped colon too

    response = await intake.client.post("/v1/events", content=body, headers=auth())

    assert response.status_code == 202, response.text


async def test_a_duplicate_key_is_named(intake: Intake) -> None:
    response = await intake.client.post(
        "/v1/events", content=dup_key(b'"staff_id":"E9",'), headers=auth()
    )

    assert response.status_code == 400
    assert "'staff_id'" in response.json()["detail"]


async def test_401_asks_for_a_bearer_token(intake: Intake) -> None:
    response = await intake.client.post("/v1/events", content=orjson.dumps(valid()))

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_403_names_every_forbidden_index_and_source(intake: Intake) -> None:
    events = [valid(), {**valid(), "source": "hr-awards"}, {**valid(), "source": "attendance"}]

    response = await intake.client.post(
        "/v1/events", content=orjson.dumps(events), headers=auth(HOTLINE_TOKEN)
    )

    assert response.status_code == 403
    body = response.json()
    assert body["events"] == [
        {"index": 1, "source": "hr-awards"},
        {"index": 2, "source": "attendance"},
    ]
    assert "event 1" in body["detail"]
    assert "hr-awards" in body["detail"]


async def test_every_invalid_event_of_a_batch_is_reported(intake: Intake) -> None:
    events = [{**valid(), "unit_id": "bad unit"}, valid(), {**valid(), "colour": "red"}]

    response = await intake.client.post("/v1/events", content=orjson.dumps(events), headers=auth())

    assert response.status_code == 422
    assert [(e["index"], e["loc"]) for e in response.json()["errors"]] == [
        (0, ["unit_id"]),
        (2, ["colour"]),
    ]


async def test_rejections_are_counted_by_reason(intake: Intake) -> None:
    await intake.client.post("/v1/events", content=b"[]", headers=auth())
    await intake.client.post("/v1/events", content=b"{", headers=auth())

    metrics = (await intake.client.get("/metrics")).text

    assert 'intake_rejected_total{channel="http",reason="empty_batch"} 1.0' in metrics
    assert 'intake_rejected_total{channel="http",reason="malformed_json"} 1.0' in metrics
