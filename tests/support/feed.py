"""Reading the change feed as a subscriber would, and what the query API says."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import orjson

from shared.kafka_client import KafkaConnection
from tests.support.topics import Record, read_topic

CE_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject")
TYPES = {
    f"assessment.{kind}.{change}"
    for kind in ("warning", "alert")
    for change in ("issued", "revoked", "reruled")
}


@dataclass(frozen=True)
class Change:
    partition: int
    offset: int
    key: str
    ce_id: str
    type: str
    subject: str
    payload: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.type.split(".")[1]

    @property
    def change(self) -> str:
        return self.type.split(".")[2]

    @property
    def item(self) -> dict[str, Any]:
        """The warning or alert without the feed's projection version."""
        return {k: v for k, v in self.payload.items() if k != "projection_version"}


def as_change(record: Record) -> Change:
    for name in CE_HEADERS:
        assert record.headers.get(name), f"{name} missing on {record.partition}/{record.offset}"
    assert record.header("ce_specversion") == b"1.0"
    assert record.header("content-type") == b"application/json"
    assert record.key is not None
    return Change(
        partition=record.partition,
        offset=record.offset,
        key=record.key.decode(),
        ce_id=record.header("ce_id").decode(),
        type=record.header("ce_type").decode(),
        subject=record.header("ce_subject").decode(),
        payload=orjson.loads(record.body),
    )


async def read_feed(kafka: KafkaConnection, topic: str) -> list[Change]:
    return [as_change(record) for record in await read_topic(kafka, topic)]


def distinct(changes: list[Change]) -> list[Change]:
    """What a subscriber keeps: the first copy of each ce_id, in feed order per key
    (read_topic returns partition, offset order; a unit's records share a partition)."""
    seen: dict[str, Change] = {}
    for change in changes:
        if change.ce_id in seen:
            assert seen[change.ce_id].payload == change.payload, "one ce_id, two contents"
            continue
        seen[change.ce_id] = change
    return list(seen.values())


def view_from_feed(changes: list[Change]) -> dict[tuple[str, str], dict[str, Any]]:
    """A subscriber's own view, built from the feed alone: the last state of each."""
    view: dict[tuple[str, str], dict[str, Any]] = {}
    for change in distinct(changes):
        view[(change.kind, change.subject)] = change.item
    return view


def history_of(changes: list[Change]) -> dict[tuple[str, str], list[str]]:
    per_item: dict[tuple[str, str], list[str]] = defaultdict(list)
    for change in distinct(changes):
        per_item[(change.kind, change.subject)].append(change.change)
    return per_item


async def outbox_drained(database_url: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        pending: int = await conn.fetchval("SELECT count(*) FROM assessment.outbox")
        return pending == 0
    finally:
        await conn.close()


async def api_items(client: httpx.AsyncClient, kind: str, status: str) -> list[dict[str, Any]]:
    """Every warning or alert the query API lists with this status (all pages)."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 500, "status": status}
        if cursor:
            params["cursor"] = cursor
        answer = await client.get(f"/v1/{kind}s", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def api_view(client: httpx.AsyncClient) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (kind, item["id"]): item
        for kind in ("warning", "alert")
        for item in await api_items(client, kind, "all")
    }
