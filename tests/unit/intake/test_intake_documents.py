"""`intake schemas` and `intake asyncapi`: deterministic documents with examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.intake.domain.examples import EXAMPLES
from services.intake.entrypoints.cli import app
from shared.catalogue import EventType
from tests.support.events import validated

pytestmark = pytest.mark.unit

runner = CliRunner()


def test_examples_are_valid_events() -> None:
    for event_type, example in EXAMPLES.items():
        assert validated(example).type == event_type


def test_schemas_are_written_per_type_and_for_the_union(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schemas", "--out", str(tmp_path / "a")])

    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted([f"{t.value}.schema.json" for t in EventType] + ["event.schema.json"])
    filed = json.loads((tmp_path / "a" / "complaint.filed.schema.json").read_text())
    assert filed["title"] == "ComplaintFiled"
    assert filed["description"].startswith("A complaint or report")
    assert filed["examples"] == [EXAMPLES[EventType.COMPLAINT_FILED]]
    assert filed["additionalProperties"] is False
    assert "recorded_at" not in filed["properties"]
    union = json.loads((tmp_path / "a" / "event.schema.json").read_text())
    assert len(union["oneOf"]) == 4
    assert union["discriminator"]["propertyName"] == "type"


def test_schemas_are_deterministic(tmp_path: Path) -> None:
    runner.invoke(app, ["schemas", "--out", str(tmp_path / "a")])
    runner.invoke(app, ["schemas", "--out", str(tmp_path / "b")])

    for first in (tmp_path / "a").iterdir():
        assert first.read_bytes() == (tmp_path / "b" / first.name).read_bytes()


def test_asyncapi_describes_the_three_topics(tmp_path: Path) -> None:
    result = runner.invoke(app, ["asyncapi", "--out", str(tmp_path)])

    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "asyncapi.json").read_text())
    assert document["asyncapi"].startswith("3.")
    assert set(document["channels"]) == {"intake.raw.v1", "events.v1", "intake.deadletter.v1"}
    assert document["operations"]["intake.raw.v1"]["action"] == "receive"
    # every raw topic, the per-source ones included, by pattern
    assert document["channels"]["intake.raw.v1"]["address"].startswith("^intake\\.raw\\.v1")
    # clients authenticate: SASL/SCRAM-SHA-512 over TLS
    assert document["components"]["securitySchemes"] == {"scram512": {"type": "scramSha512"}}
    assert all(server["protocol"] == "kafka-secure" for server in document["servers"].values())
    payloads = document["components"]["schemas"]
    raw = payloads["intake.raw.v1:Message:Payload"]
    assert len(raw["oneOf"]) == 4
    assert "$ref" not in json.dumps(raw)
    recorded = payloads["events.v1:Message:Payload"]
    assert all("recorded_at" in branch["required"] for branch in recorded["oneOf"])
    assert (tmp_path / "asyncapi.yaml").read_text().startswith("info:")
