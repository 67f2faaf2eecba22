"""JSON Schemas of the contract's events, for `intake schemas` and the API documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from shared.catalogue import EventType
from shared.events import EVENT_ADAPTER, EVENT_MODELS, SCHEMA_VERSION

from .domain.examples import EXAMPLES

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_FILE = "event"


def event_type_schema(event_type: EventType) -> dict[str, Any]:
    """The JSON Schema of one event type, as upstream systems send it."""
    schema = EVENT_MODELS[event_type].model_json_schema()
    return _document(
        schema,
        schema_id=f"{event_type.value}.schema.json",
        examples=[EXAMPLES[event_type]],
    )


def envelope_schema() -> dict[str, Any]:
    """The union of the four event types, discriminated by `type`."""
    schema = EVENT_ADAPTER.json_schema()
    schema["title"] = "Event"
    schema["description"] = (
        "An event envelope (CONTRACT.md): id, type, source, occurred_at, unit_id, "
        "optional staff_id, and the type's data. POST /v1/events takes one of these "
        "or an array of 1-1000."
    )
    return _document(
        schema, schema_id=f"{ENVELOPE_FILE}.schema.json", examples=list(EXAMPLES.values())
    )


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every event type and the envelope union."""
    files = {f"{t.value}.schema.json": event_type_schema(t) for t in EventType}
    files[f"{ENVELOPE_FILE}.schema.json"] = envelope_schema()
    return files


def write_schemas(out: Path) -> list[Path]:
    """Write every schema under `out`; the bytes depend only on the models."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in sorted(all_schemas().items()):
        path = out / name
        path.write_text(dump_json(schema), encoding="utf-8")
        written.append(path)
    return written


def dump_json(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every local `$ref` replaced by its definition and `$defs`
    dropped, for documents that keep schemas elsewhere (AsyncAPI components)."""
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                target = resolve(copy.deepcopy(definitions[ref.removeprefix("#/$defs/")]))
                extra = {k: resolve(v) for k, v in node.items() if k != "$ref"}
                return {**target, **extra}
            resolved = {k: resolve(v) for k, v in node.items() if k != "$defs"}
            discriminator = resolved.get("discriminator")
            if isinstance(discriminator, dict):
                # its mapping points into $defs, which are gone
                resolved["discriminator"] = {"propertyName": discriminator["propertyName"]}
            return resolved
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def _document(schema: dict[str, Any], *, schema_id: str, examples: list[Any]) -> dict[str, Any]:
    return {
        "$schema": DIALECT,
        "$id": schema_id,
        **schema,
        "examples": examples,
        "x-schema-version": SCHEMA_VERSION,
    }


def recorded_envelope_schema() -> dict[str, Any]:
    """An event as it is on events.v1: the envelope plus intake's `recorded_at`."""
    schema = inline_refs(EVENT_ADAPTER.json_schema())
    for branch in schema.get("oneOf", []):
        branch.setdefault("properties", {})["recorded_at"] = {
            "description": "When intake accepted the event (RFC 3339, UTC).",
            "format": "date-time",
            "type": "string",
            "title": "Recorded At",
        }
        branch.setdefault("required", []).append("recorded_at")
    schema["title"] = "RecordedEvent"
    return schema
