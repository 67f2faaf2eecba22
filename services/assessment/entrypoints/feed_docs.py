"""Documents of the change feed for subscribers: the JSON Schema of its payloads
(`assessment schemas`) and its AsyncAPI document (`assessment asyncapi`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.base import Specification
from pydantic import BaseModel

from services.assessment.service_layer.published import AlertChange, WarningChange
from shared.kafka_client import KafkaConnection, faststream_options
from shared.topics import TopicNames

DIALECT = "https://json-schema.org/draft/2020-12/schema"
CHANGE_TYPES = ("issued", "revoked", "reruled")

WARNING_EXAMPLE = {
    "id": "W-4f1c2a9b0e7d6c5b4a392817",
    "staff_id": "E1024",
    "unit_id": "qsb/licensing",
    "rule": "rude_attitude",
    "period": "2026-01",
    "issued_at": "2026-01-09T08:00:00Z",
    "evidence": ["c-2026-000123", "r-2026-000456"],
    "status": "active",
    "policy_version": "2026.1",
    "revoked_at": None,
    "projection_version": 1,
}
ALERT_EXAMPLE = {
    "id": "A-9e8d7c6b5a4f3e2d1c0b9a88",
    "unit_id": "qsb/licensing",
    "rule": "accumulated_warnings",
    "level": "collective_warning",
    "year": 2026,
    "issued_at": "2026-03-02T01:15:00Z",
    "evidence": ["W-4f1c2a9b0e7d6c5b4a392817", "W-0a1b2c3d4e5f60718293a4b5", "W-5f4e3d2c1b0a"],
    "status": "active",
    "policy_version": "2026.1",
    "revoked_at": None,
    "projection_version": 1,
}

HEADERS = (
    "Headers (CloudEvents 1.0, Kafka binary mode): ce_specversion = 1.0; ce_id = a stable "
    "id of the change (a redelivered record has the same one: drop it); ce_source = "
    "/service-norm/assessment; ce_type = assessment.<warning|alert>.<issued|revoked|"
    "reruled>; ce_time = when the change was made (RFC 3339, UTC); ce_subject = the "
    "warning's or alert's id; content-type = application/json. Key = unit_id (UTF-8): "
    "the changes of one unit are in order on one partition."
)


def _document(model: type[BaseModel], *, kind: str, example: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "$schema": DIALECT,
        "$id": f"assessment.{kind}.change.schema.json",
        **schema,
        "description": f"{schema.get('description', '')}\n\nce_type: "
        + ", ".join(f"assessment.{kind}.{change}" for change in CHANGE_TYPES)
        + ".",
        "examples": [example],
    }


def feed_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema of each kind of change feed payload."""
    return {
        "assessment.warning.change.schema.json": _document(
            WarningChange, kind="warning", example=WARNING_EXAMPLE
        ),
        "assessment.alert.change.schema.json": _document(
            AlertChange, kind="alert", example=ALERT_EXAMPLE
        ),
    }


def write_feed_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in sorted(feed_schemas().items()):
        path = out / name
        path.write_text(dump_json(schema), encoding="utf-8")
        written.append(path)
    return written


def asyncapi_document(*, bootstrap: str = "localhost:9092") -> Specification:
    """The AsyncAPI 3.0 document of what the assessment publishes, with the cluster's
    security scheme, SASL/SCRAM-SHA-512 over TLS (no connection is made; the
    credentials are placeholders)."""
    kafka = KafkaConnection(
        bootstrap=bootstrap,
        security_protocol="SASL_SSL",
        username="<subscriber>",
        password="<from the platform team>",  # noqa: S106 (a placeholder, never used)
    )
    broker = KafkaBroker(**faststream_options(kafka))
    topic = TopicNames().assessment_changes
    for kind, model in (("warning", WarningChange), ("alert", AlertChange)):
        broker.publisher(
            topic,
            title=f"{topic} ({kind}s)",
            description=(
                f"{kind.capitalize()}s issued, revoked or re-ruled in the live projections; "
                f"value = the {kind} as the query API shows it, with projection_version. " + HEADERS
            ),
            schema=model,
        )
    return AsyncAPI(
        broker,
        title="Assessment change feed",
        version="1.0.0",
        description=(
            "assessment.changes.v1: every warning and alert issued, revoked or re-ruled in "
            "the live projections, at least once, in order per unit. See the README, "
            "'Subscribing to the change feed'."
        ),
    ).to_specification()


def dump_json(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
