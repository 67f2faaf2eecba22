"""The AsyncAPI files do not depend on the order FastStream happened to list channels,
operations and components in (it keeps publishers in sets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from shared.asyncapi_files import write_asyncapi


class _Document:
    """What write_asyncapi reads of FastStream's schema object."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def to_json(self) -> str:
        return json.dumps(self._data)


def _document(reverse: bool) -> dict[str, Any]:
    def named(*names: str) -> dict[str, Any]:
        ordered = list(reversed(names)) if reverse else list(names)
        return {name: {"title": name} for name in ordered}

    return {
        "info": {"title": "feed", "version": "1.0.0"},
        "asyncapi": "3.0.0",
        "channels": named("changes (alerts)", "changes (warnings)"),
        "operations": named("alerts", "warnings"),
        "components": {
            "messages": named("AlertChange", "WarningChange"),
            "schemas": named("AlertChange", "WarningChange"),
        },
    }


def _written(tmp_path: Path, reverse: bool) -> tuple[str, str]:
    folder = tmp_path / ("reversed" if reverse else "in-order")
    json_path, yaml_path = write_asyncapi(
        _Document(_document(reverse)), folder, stem="doc", dump_json=json.dumps
    )
    return json_path.read_text(), yaml_path.read_text()


def test_the_files_are_the_same_whatever_the_order_of_the_parts(tmp_path: Path) -> None:
    assert _written(tmp_path, reverse=False) == _written(tmp_path, reverse=True)


def test_parts_are_in_name_order_and_the_rest_keeps_its_place(tmp_path: Path) -> None:
    json_text, yaml_text = _written(tmp_path, reverse=True)
    document = json.loads(json_text)
    assert list(document) == ["info", "asyncapi", "channels", "operations", "components"]
    assert list(document["channels"]) == ["changes (alerts)", "changes (warnings)"]
    assert list(document["components"]["schemas"]) == ["AlertChange", "WarningChange"]
    assert yaml.safe_load(yaml_text) == document
    assert yaml_text.startswith("info:")
