"""The OpenAPI document: the event schemas and examples for POST /v1/events."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.intake.domain.examples import EXAMPLES
from shared.catalogue import EventType
from shared.events import EVENT_ADAPTER

_REF = "#/components/schemas/{model}"
EVENT_REF = {"$ref": "#/components/schemas/Event"}
RETRY_AFTER_HEADER: dict[str, Any] = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def events_request_body(max_batch: int) -> dict[str, Any]:
    """`openapi_extra` for POST /v1/events: the body is read raw, so it is declared here."""
    examples: dict[str, Any] = {
        t.value: {"summary": f"one {t.value} event", "value": EXAMPLES[t]} for t in EventType
    }
    examples["batch"] = {
        "summary": f"a batch (1-{max_batch} events, all or nothing)",
        "value": [EXAMPLES[EventType.COMPLAINT_FILED], EXAMPLES[EventType.COMPLAINT_RESOLVED]],
    }
    return {
        "requestBody": {
            "required": True,
            "description": f"One event envelope, or a JSON array of 1-{max_batch} (max 4 MiB).",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            EVENT_REF,
                            {
                                "type": "array",
                                "items": EVENT_REF,
                                "minItems": 1,
                                "maxItems": max_batch,
                            },
                        ]
                    },
                    "examples": examples,
                }
            },
        }
    }


def install_openapi(app: FastAPI) -> None:
    """Build the document once, with the event models in `components.schemas`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            event_schema = EVENT_ADAPTER.json_schema(ref_template=_REF)
            definitions = event_schema.pop("$defs", {})
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(definitions)
            schemas["Event"] = {"title": "Event", **event_schema}
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
