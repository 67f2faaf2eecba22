"""Writes an AsyncAPI document as JSON and YAML (both services' `asyncapi` commands)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

# Mappings whose order FastStream leaves to chance: it keeps publishers and subscribers
# in sets (the assessment's two change-feed channels swapped with the import order).
_NAMED = ("channels", "operations")
_COMPONENTS = ("messages", "schemas", "securitySchemes")


def write_asyncapi(
    document: Any, out: Path, *, stem: str, dump_json: Callable[[Any], str]
) -> list[Path]:
    """`document` is FastStream's AsyncAPI schema; returns the two files written, the
    same for the same document whatever order FastStream listed its parts in."""
    out.mkdir(parents=True, exist_ok=True)
    data = stable(json.loads(document.to_json()))
    json_path = out / f"{stem}.json"
    json_path.write_text(dump_json(data), encoding="utf-8")
    yaml_path = out / f"{stem}.yaml"
    yaml_path.write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return [json_path, yaml_path]


def stable(data: dict[str, Any]) -> dict[str, Any]:
    """The document with its named parts in name order (everything else as it was)."""
    out = dict(data)
    for key in _NAMED:
        if isinstance(out.get(key), dict):
            out[key] = dict(sorted(out[key].items()))
    components = out.get("components")
    if isinstance(components, dict):
        out["components"] = {
            key: dict(sorted(value.items())) if key in _COMPONENTS and isinstance(value, dict)
            else value
            for key, value in components.items()
        }  # fmt: skip
    return out
