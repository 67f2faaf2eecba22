"""`intake import` validates the whole file first and reports every bad line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from services.intake.entrypoints.cli import app
from tests.support.events import complaint_filed, inspection_recorded, to_json, to_wire

pytestmark = pytest.mark.unit

runner = CliRunner()


def write_lines(path: Path, *lines: bytes) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_bad_lines_are_reported_with_field_paths_and_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Unreachable Kafka: the command must stop before it ever connects.
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    bad_finding = to_json(inspection_recorded())
    bad_finding["data"]["findings"][0]["code"] = "sleeping"
    file = write_lines(
        tmp_path / "events.jsonl",
        to_wire(complaint_filed()),
        b"",
        b"{not json",
        orjson.dumps(bad_finding),
        b"   ",
        orjson.dumps({**to_json(complaint_filed()), "occurred_at": "2026-01-05 09:30"}),
    )

    result = runner.invoke(app, ["import", str(file)])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("line 3: (event): not valid JSON (UTF-8)") for line in lines)
    assert any(line.startswith("line 4: data.findings.0.code: Input should be") for line in lines)
    assert any(line.startswith("line 6: occurred_at: ") for line in lines)
    assert not any(line.startswith(("line 1:", "line 2:", "line 5:")) for line in lines)
    assert "nothing published" in result.output


def test_settings_errors_exit_with_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "no spaces allowed")
    file = write_lines(tmp_path / "events.jsonl", to_wire(complaint_filed()))

    result = runner.invoke(app, ["import", str(file)])

    assert result.exit_code == 2
    assert "KAFKA_TOPIC_PREFIX" in result.output


def test_kafka_unreachable_exits_with_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    file = write_lines(tmp_path / "events.jsonl", to_wire(complaint_filed()))

    result = runner.invoke(app, ["import", str(file)])

    assert result.exit_code == 2
    assert "unavailable" in result.output
