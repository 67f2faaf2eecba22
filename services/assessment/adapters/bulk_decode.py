"""Decoding for the full rebuild, in worker processes.

The rebuild's load phase is CPU-bound in Python (contract validation, facts, table
rows) while the database waits. A worker process per spare core takes the raw record
values and returns each table's rows as a CSV COPY payload: bytes cross the process
boundary cheaply both ways (pickling records and row tuples cost as much as the work).
Module-level functions only: they are pickled by reference into the workers.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.assessment.adapters.projection_store import fact_rows
from services.assessment.domain.event_facts import facts_from_events
from services.assessment.domain.records import decode_value_fast, digest_of, store_problem
from services.assessment.service_layer.rebuild_ports import DecodedChunk
from shared.events import Event
from shared.fast_events import FastEvent
from shared.runtime import tune_garbage_collector


def start_worker() -> None:
    tune_garbage_collector()
    _exit_with_parent()


def _exit_with_parent() -> None:
    """A worker waits on the pool's call queue, and every worker holds that queue's
    write end too, so the end of the rebuild's process (kill -9, SIGTERM) never shows as
    end-of-file there: without this, the workers would run on as orphans. The parent's
    sentinel becomes readable when the parent ends, whatever killed it."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def decode_chunk(
    values: Sequence[bytes | None],
    schema_versions: Sequence[str | None],
    positions: Sequence[tuple[int, int]],
    time_zone: str,
) -> DecodedChunk:
    """Payloads: table -> CSV rows in fact_rows() column order (bulk_store.load_csv).
    `positions`: (partition, offset) of each value; with the content digest they
    place every copy of an event in the total order (see domain/identity.py)."""
    events: list[Event | FastEvent] = []
    identities: list[tuple[Any, ...]] = []
    poison = 0
    for value, version, (partition, offset) in zip(values, schema_versions, positions, strict=True):
        outcome = decode_value_fast(value, version)
        if isinstance(outcome, tuple) or store_problem(outcome) is not None:
            poison += 1
            continue
        events.append(outcome)
        identities.append(
            (outcome.source, outcome.id, "\\x" + digest_of(outcome).hex(),
             outcome.recorded_at, partition, offset)
        )  # fmt: skip
    rows = fact_rows(facts_from_events(events), ZoneInfo(time_zone))
    rows["event_ids"] = identities
    return DecodedChunk({table: _csv(table_rows) for table, table_rows in rows.items()}, poison)


def _csv(rows: list[tuple[Any, ...]]) -> bytes:
    """COPY ... (FORMAT csv): an unquoted empty field is NULL (no stored text is empty:
    the contract requires at least one character)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(tuple(_field(v) for v in row) for row in rows)
    return out.getvalue().encode()


def _field(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    return value
