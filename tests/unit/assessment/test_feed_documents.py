"""`assessment schemas` and `assessment asyncapi`: the change feed's documents say
what the feed carries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from services.assessment.domain.results import Alert, Warning
from services.assessment.entrypoints.cli import app
from services.assessment.entrypoints.feed_docs import ALERT_EXAMPLE, WARNING_EXAMPLE
from services.assessment.service_layer.published import (
    AlertChange,
    WarningChange,
    alert_fields,
    change_payload,
    warning_fields,
)
from shared.catalogue import AlertLevel, AlertRule, Status, WarningRule

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


# Any text the models accept (quotes, controls, other scripts), instants at any offset
# with or without a fraction: the payload must be the bytes the models write.
_TEXT = st.text(max_size=12)
_INSTANTS = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(9998, 12, 30)),
    st.integers(min_value=-18 * 60, max_value=18 * 60),
)
_WARNINGS = st.builds(
    Warning,
    id=_TEXT, staff_id=_TEXT, unit_id=_TEXT, rule=st.sampled_from(WarningRule), period=_TEXT,
    issued_at=_INSTANTS, evidence=st.lists(_TEXT, max_size=3).map(tuple),
    status=st.sampled_from(Status), policy_version=_TEXT, scope=_TEXT,
    revoked_at=st.none() | _INSTANTS,
)  # fmt: skip
_ALERTS = st.builds(
    Alert,
    id=_TEXT, unit_id=_TEXT, rule=st.sampled_from(AlertRule), level=st.sampled_from(AlertLevel),
    year=st.integers(min_value=2000, max_value=9999), issued_at=_INSTANTS,
    evidence=st.lists(_TEXT, max_size=3).map(tuple), status=st.sampled_from(Status),
    policy_version=_TEXT, scope=_TEXT, revoked_at=st.none() | _INSTANTS,
)  # fmt: skip


@settings(max_examples=300)
@given(item=_WARNINGS | _ALERTS, projection_version=st.integers(min_value=1, max_value=2**31))
def test_a_payload_is_the_json_the_published_models_write(
    item: Warning | Alert, projection_version: int
) -> None:
    model: WarningChange | AlertChange
    if isinstance(item, Warning):
        model = WarningChange(**warning_fields(item), projection_version=projection_version)
    else:
        model = AlertChange(**alert_fields(item), projection_version=projection_version)

    assert change_payload(item, projection_version=projection_version) == (
        model.model_dump_json().encode()
    )


def test_asyncapi_describes_the_change_feed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["asyncapi", "--out", str(tmp_path)])

    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "assessment.asyncapi.json").read_text())
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {"assessment.changes.v1"}
    assert "ce_id" in json.dumps(document)
