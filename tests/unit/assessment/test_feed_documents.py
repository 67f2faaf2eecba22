"""`assessment schemas` and `assessment asyncapi`: the change feed's documents say
what the feed carries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from services.assessment.domain.results import Warning
from services.assessment.entrypoints.cli import app
from services.assessment.entrypoints.feed_docs import ALERT_EXAMPLE, WARNING_EXAMPLE
from services.assessment.service_layer.published import (
    AlertChange,
    WarningChange,
    change_payload,
)
from shared.catalogue import Status, WarningRule

pytestmark = pytest.mark.unit
runner = CliRunner()
DOCS = Path(__file__).resolve().parents[3] / "docs" / "schemas"


def test_examples_are_valid_payloads() -> None:
    assert WarningChange.model_validate(WARNING_EXAMPLE).model_dump(mode="json") == WARNING_EXAMPLE
    assert AlertChange.model_validate(ALERT_EXAMPLE).model_dump(mode="json") == ALERT_EXAMPLE


def test_schemas_are_written_and_the_committed_ones_are_current(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schemas", "--out", str(tmp_path)])

    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["assessment.alert.change.schema.json", "assessment.warning.change.schema.json"]
    for name in names:
        written = json.loads((tmp_path / name).read_text())
        assert "projection_version" in written["required"]
        assert "assessment." in written["description"]
        assert (DOCS / name).read_text() == (tmp_path / name).read_text(), "run make schemas"


def test_a_payload_says_its_instants_in_utc_as_the_api_does() -> None:
    shanghai = timezone(timedelta(hours=8))
    warning = Warning(
        id="W-1",
        staff_id="E1024",
        unit_id="qsb/licensing",
        rule=WarningRule.BRIBERY,
        period="2026-01",
        issued_at=datetime(2026, 1, 9, 16, 0, tzinfo=shanghai),
        evidence=("c-1", "r-1"),
        status=Status.ACTIVE,
        policy_version="2026.1",
        scope="complaint:Q-1",
    )
    payload = orjson.loads(change_payload(warning, projection_version=4))
    assert payload["issued_at"] == "2026-01-09T08:00:00Z"
    assert payload["projection_version"] == 4
    assert "scope" not in payload
    assert WarningChange.model_validate(payload).id == "W-1"


def test_asyncapi_describes_the_change_feed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["asyncapi", "--out", str(tmp_path)])

    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "assessment.asyncapi.json").read_text())
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {"assessment.changes.v1"}
    assert "ce_id" in json.dumps(document)
