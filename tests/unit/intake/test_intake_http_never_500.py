"""Whatever a client sends, POST /v1/events answers with a 4xx or 202, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.intake.entrypoints.http import create_app
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from tests.support.events import events, to_json
from tests.unit.intake.fakes import FakePublisher
from tests.unit.intake.harness import ANY_TOKEN, HOTLINE_TOKEN, TOKENS, auth

pytestmark = pytest.mark.unit

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)  # what orjson can write
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def mangled_events() -> st.SearchStrategy[Any]:
    """A valid event with one field replaced by an arbitrary JSON value."""

    def mangle(event: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
        target = event["data"] if field.startswith("data.") else event
        target[field.removeprefix("data.")] = value
        return event

    fields = st.sampled_from(
        [
            "id",
            "type",
            "source",
            "occurred_at",
            "unit_id",
            "staff_id",
            "recorded_at",
            "data",
            "data.summary",
            "data.findings",
            "data.outcome",
            "data.kind",
            "data.complainant",
        ]
    )
    return st.builds(mangle, events().map(to_json), fields, json_values)


bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(orjson.dumps),
    mangled_events().map(orjson.dumps),
    st.lists(mangled_events(), min_size=1, max_size=5).map(orjson.dumps),
    st.just(b"[" * 5000 + b"]" * 5000),  # deeper than any JSON parser's recursion limit
    st.just(b'{"id": 1e999999}'),
    st.just(b'{"id": "\\ud800"}'),
    st.just(b'{"id": 123456789012345678901234567890}'),
)


@settings(
    max_examples=300,
    deadline=None,  # builds an app per example: slow on a busy machine, and timing is no assertion
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=bodies, token=st.sampled_from([None, "nope", *TOKENS, ANY_TOKEN, HOTLINE_TOKEN]))
async def test_never_a_server_error(body: bytes, token: str | None) -> None:
    publisher = FakePublisher()
    app = create_app(
        settings=IntakeSettings(intake_tokens=TOKENS, kafka_security_protocol="PLAINTEXT"),  # type: ignore[arg-type]
        publisher=publisher,
        readiness=publisher,
        metrics=IntakeMetrics(),
    )
    headers = auth(token) if token else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://intake"
    ) as client:
        response = await client.post("/v1/events", content=body, headers=headers)

    assert response.status_code in {202, 400, 401, 403, 413, 422, 429}, response.text
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json(), dict)
    if response.status_code != 202:
        assert publisher.published == []
    if token == HOTLINE_TOKEN and response.status_code == 202:
        assert all(dict(r.headers)["event-source"] == b"hotline-95598" for r in publisher.published)
