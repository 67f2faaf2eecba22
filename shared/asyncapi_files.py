"""Writes an AsyncAPI document as JSON and YAML (both services' `asyncapi` commands)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_asyncapi(
    document: Any, out: Path, *, stem: str, dump_json: Callable[[Any], str]
) -> list[Path]:
    """`document` is FastStream's AsyncAPI schema; returns the two files written."""
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"{stem}.json"
    json_path.write_text(dump_json(json.loads(document.to_json())), encoding="utf-8")
    yaml_path = out / f"{stem}.yaml"
    yaml_path.write_text(document.to_yaml(), encoding="utf-8")
    return [json_path, yaml_path]
