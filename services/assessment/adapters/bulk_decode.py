"""Decoding for the full rebuild, in worker processes.

The rebuild's load phase is CPU-bound in Python (contract validation, then facts,
then table rows) while the database waits; a worker process per spare core does that
work on raw record values and hands back ready rows. Module-level functions only: they
are pickled by reference into the workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from services.assessment.adapters.projection_store import fact_rows
from services.assessment.service_layer.facts import facts_from_events
from services.assessment.service_layer.records import Record, decode
from shared.runtime import tune_garbage_collector

Rows = dict[str, list[tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class DecodedChunk:
    rows: Rows
    poison: int


def start_worker() -> None:
    tune_garbage_collector()


def decode_chunk(records: Sequence[Record], time_zone: str) -> DecodedChunk:
    decoded = decode(records)
    rows = fact_rows(facts_from_events(decoded.events), ZoneInfo(time_zone))
    return DecodedChunk(rows=rows, poison=len(decoded.poison))
