"""The change feed (assessment.changes.v1): changes of the live projections become
outbox records, in the transaction that made them; the outbox relay publishes them.

One record per change: key = unit_id, value = the warning or alert as the query API
shows it (JSON), CloudEvents 1.0 attributes in `ce_*` headers (Kafka protocol binding,
binary mode). `ce_id` is derived from what the change says (kind, id, change, the new
content with its projection version, and the content it replaced), so a redelivered
record carries the same id and a consumer can drop it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from services.assessment.adapters.db import Connection
from services.assessment.adapters.outbox import OutboxRecord, enqueue
from services.assessment.adapters.projection_rows import alert_from_row, warning_from_row
from services.assessment.adapters.schema import checked_schema
from services.assessment.domain.changes import Change, Result
from services.assessment.service_layer.published import change_payload

SPEC_VERSION = "1.0"
SOURCE = "/service-norm/assessment"
CONTENT_TYPE = "application/json"
TYPE_PREFIX = "assessment"  # ce_type: assessment.<warning|alert>.<issued|revoked|reruled>


def event_type(change: Change) -> str:
    return f"{TYPE_PREFIX}.{change.kind}.{change.change.value}"


def change_id(change: Change, payload: bytes) -> str:
    """Deterministic: the same change of the same content gives the same id."""
    before = b"" if change.before is None else change_payload(change.before, projection_version=0)
    digest = hashlib.sha256(
        b"\x1f".join(
            (change.kind.encode(), change.item.id.encode(), change.change.value.encode(),
             payload, before)
        )
    ).digest()  # fmt: skip
    return str(uuid.UUID(bytes=digest[:16], version=5))


def feed_record(
    change: Change, *, topic: str, projection_version: int, at: datetime
) -> OutboxRecord:
    payload = change_payload(change.item, projection_version=projection_version)
    return OutboxRecord(
        topic=topic,
        key=change.item.unit_id.encode(),
        value=payload,
        headers=(
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", change_id(change, payload).encode()),
            ("ce_source", SOURCE.encode()),
            ("ce_type", event_type(change).encode()),
            ("ce_time", at.astimezone(UTC).isoformat().replace("+00:00", "Z").encode()),
            ("ce_subject", change.item.id.encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ),
    )


async def publish_changes(
    conn: Connection, changes: Sequence[Change], *, topic: str, projection_version: int
) -> int:
    """Queue `changes` in the outbox, inside the caller's transaction."""
    at = datetime.now(UTC)
    await enqueue(
        conn,
        [
            feed_record(change, topic=topic, projection_version=projection_version, at=at)
            for change in changes
        ],
    )
    return len(changes)


# What subscribers see of a row (the domain compares the same: not scope, not policy).
_SEEN = {
    "warnings": "staff_id, unit_id, rule, period, issued_at, revoked_at, evidence, status",
    "alerts": "unit_id, rule, level, year, issued_at, revoked_at, evidence, status",
}


async def differing_results(
    conn: Connection, old: str | None, new: str
) -> tuple[list[Result], list[Result]]:
    """The warnings and alerts that differ between two versions, as each holds them:
    only those are read (the switch runs while the live fold waits). With no old
    version (the first one comes from a replay), all of the new one."""
    new = checked_schema(new)
    before: list[Result] = []
    after: list[Result] = []
    if old is None:
        for table, from_row in (("warnings", warning_from_row), ("alerts", alert_from_row)):
            after += [from_row(r) for r in await conn.fetch(f"SELECT * FROM {new}.{table}")]
        return before, after
    old = checked_schema(old)
    for table, from_row in (("warnings", warning_from_row), ("alerts", alert_from_row)):
        seen = _SEEN[table]
        ids = f"""
            SELECT coalesce(o.id, n.id) FROM {old}.{table} o FULL JOIN {new}.{table} n
              ON n.id = o.id
            WHERE o.id IS NULL OR n.id IS NULL OR (o.{seen.replace(", ", ", o.")})
                  IS DISTINCT FROM (n.{seen.replace(", ", ", n.")})"""
        rows = f"SELECT * FROM {{schema}}.{table} WHERE id IN ({ids})"
        before += [from_row(r) for r in await conn.fetch(rows.format(schema=old))]
        after += [from_row(r) for r in await conn.fetch(rows.format(schema=new))]
    return before, after
