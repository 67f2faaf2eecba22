"""Decoding for the full rebuild, in worker processes.

The rebuild's load phase is CPU-bound in Python (contract validation, digests, table
rows) while the database waits. A worker process per core takes the raw record values
and returns each table's rows as a CSV COPY payload: bytes cross the process boundary
cheaply both ways (pickling records and row tuples cost as much as the work).

Rows are built straight from the msgspec Structs, one tuple per row, with no fact
objects in between, and written as CSV lines by f-strings (`csv_payload`); instants go
as the canonical RFC 3339 text the event carried, which PostgreSQL reads to the same
microsecond. The few events only the pydantic contract accepts take the incremental
path's own `facts_from_events` and `fact_rows` (tests hold the two to the same rows and
the same stored table contents). Module-level functions only: pickled
by reference into the workers.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from services.assessment.adapters.projection_rows import fact_rows
from services.assessment.domain.event_facts import facts_from_events
from services.assessment.domain.records import decode_value_fast, digest_of, store_problem
from services.assessment.service_layer.rebuild_ports import DecodedChunk
from shared import fast_events as fast
from shared.events import Event
from shared.fast_events import FastEvent
from shared.runtime import tune_garbage_collector

Row = tuple[Any, ...]
# Tables in bulk_store.FACT_COLUMNS order.
TABLES = (
    "complaint_filings", "complaint_verdicts", "inspections", "findings", "commendations",
    "event_ids",
)  # fmt: skip


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
    """Payloads: table -> CSV rows in bulk_store.FACT_COLUMNS order (bulk_store.load_csv).
    `positions`: (partition, offset) of each value; with the content digest they
    place every copy of an event in the total order (see domain/identity.py)."""
    events = [
        decode_value_fast(value, version)
        for value, version in zip(values, schema_versions, strict=True)
    ]
    rows = table_rows(events, positions, time_zone)
    return DecodedChunk(
        {table: csv_payload(table, rows[table]) for table in TABLES}, rows.poison, rows.conflicts
    )


class TableRows(dict[str, list[Row]]):
    """Each table's rows; how many records were poison; the (source, id) pairs seen
    more than once with different contents."""

    poison: int = 0
    conflicts: set[tuple[str, str]]


def table_rows(
    events: Sequence[FastEvent | Event | tuple[str, str]],
    positions: Sequence[tuple[int, int]],
    time_zone: str,
) -> TableRows:
    """The rows of `decode_value_fast`'s outcomes (poison is counted, not stored).

    Each (source, id) gives rows once, as the store keeps it: its facts from the first
    copy in the chunk, its identity from the copy first in the total order (recorded_at,
    partition, offset; domain/identity.py); copies with other contents are conflicts,
    which the rebuild reconciles once everything is loaded. So the rows of one chunk
    never repeat a key, and a chunk whose keys are new to the version can be COPYed
    straight into its tables (bulk_store.load_csv)."""
    tz = _zone(time_zone)
    out = TableRows({table: [] for table in TABLES})
    out.conflicts = set()
    filings, verdicts = out["complaint_filings"], out["complaint_verdicts"]
    inspections, findings = out["inspections"], out["findings"]
    commendations = out["commendations"]
    months: dict[int, str] = {}  # year * 100 + month -> its text (formatting costs more)
    first: dict[tuple[str, str], int] = {}  # key -> its row in out["event_ids"]
    poison = 0
    for event, (partition, offset) in zip(events, positions, strict=True):
        if isinstance(event, tuple):
            poison += 1
            continue
        if not isinstance(event, fast.Envelope):  # only pydantic decided
            if store_problem(event) is not None:
                poison += 1
                continue
            identity: Row = (event.source, event.id, "\\x" + digest_of(event).hex(),
                        event.recorded_at, partition, offset)  # fmt: skip
            if _repeated(out, first, identity):
                continue
            for table, rows in fact_rows(facts_from_events([event]), tz).items():
                out[table].extend(rows)
            continue
        occurred, recorded = event.occurred_text, event.recorded_text
        if store_problem(event) is not None:
            poison += 1
            continue
        source, event_id, unit_id = event.source, event.id, event.unit_id
        identity = (source, event_id, "\\x" + fast.fast_digest(event).hex(), recorded,
                    partition, offset)  # fmt: skip
        if _repeated(out, first, identity):
            continue
        data: Any = event.data
        match event.type_name:
            case "inspection.recorded":
                month = _month(occurred, tz, months)
                inspection_findings = data.findings
                inspections.append(
                    (source, event_id, occurred, data.inspection_id, unit_id, data.mode,
                     len(inspection_findings), month)
                )  # fmt: skip
                for position, f in enumerate(inspection_findings):
                    findings.append(
                        (source, event_id, occurred, position, unit_id, f.staff_id, f.code,
                         f.unit_wide, month)
                    )  # fmt: skip
            case "complaint.filed":
                filings.append(
                    (source, event_id, occurred, data.complaint_id, unit_id, event.staff_id,
                     data.channel, data.category, data.handling)
                )  # fmt: skip
            case "complaint.resolved":
                verdicts.append(
                    (source, event_id, occurred, data.complaint_id, unit_id, event.staff_id,
                     data.outcome, data.category, data.obstructed)
                )  # fmt: skip
            case "commendation.recorded":
                commendations.append(
                    (source, event_id, occurred, data.commendation_id, unit_id, event.staff_id,
                     data.kind, _month(occurred, tz, months))
                )  # fmt: skip
    out.poison = poison
    return out


def _repeated(out: TableRows, first: dict[tuple[str, str], int], identity: Row) -> bool:
    """Records the identity row of a key seen for the first time (False), or merges a
    later copy into the first one's (True: the copy gives no rows of its own)."""
    key = (identity[0], identity[1])
    at = first.get(key)
    identities = out["event_ids"]
    if at is None:
        first[key] = len(identities)
        identities.append(identity)
        return False
    kept = identities[at]
    if kept[2] != identity[2]:
        out.conflicts.add(key)
    if _order(identity) < _order(kept):
        identities[at] = identity
    return True


def _order(identity: Row) -> tuple[datetime, int, int]:
    """(recorded_at, partition, offset): the total order of domain/identity.py."""
    recorded = identity[3]
    if isinstance(recorded, str):
        recorded = datetime.fromisoformat(recorded)
    return (recorded, identity[4], identity[5])


def _month(instant: str, tz: ZoneInfo, months: dict[int, str]) -> str:
    """`domain.calendar.month_of`, for a canonical instant's text."""
    local = datetime.fromisoformat(instant).astimezone(tz)
    key = local.year * 100 + local.month
    month = months.get(key)
    if month is None:
        month = months[key] = f"{local.year:04d}-{local.month:02d}"
    return month


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def csv_payload(table: str, rows: list[Row]) -> bytes:
    """COPY ... (FORMAT csv) of a table's rows, written line by line with f-strings (the
    csv module cost five times as much). Each column's alphabet is the contract's: codes,
    sources, units, staff, months, canonical instants, digests and numbers never need
    quoting; only the ids of events, complaints, inspections and commendations (any
    visible ASCII) may hold a quote or a comma. None is an empty, unquoted field (NULL;
    no stored text is empty); booleans are t and f."""
    return "".join(map(_LINES[table], rows)).encode()


def _q(text: str) -> str:
    """A field that may hold a quote or a comma, quoted when it does."""
    if '"' in text or "," in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _b(value: bool) -> str:
    return "t" if value else "f"


_LINES: dict[str, Callable[[Row], str]] = {
    # source, event_id, occurred_at, complaint_id, unit_id, staff_id, channel, category,
    # handling
    "complaint_filings": lambda r: (
        f"{r[0]},{_q(r[1])},{r[2]},{_q(r[3])},{r[4]},{r[5] or ''},{r[6]},{r[7]},{r[8]}\n"
    ),
    # source, event_id, occurred_at, complaint_id, unit_id, staff_id, outcome, category,
    # obstructed
    "complaint_verdicts": lambda r: (
        f"{r[0]},{_q(r[1])},{r[2]},{_q(r[3])},{r[4]},{r[5] or ''},{r[6]},{r[7] or ''},{_b(r[8])}\n"
    ),
    # source, event_id, occurred_at, inspection_id, unit_id, mode, finding_count, month
    "inspections": lambda r: f"{r[0]},{_q(r[1])},{r[2]},{_q(r[3])},{r[4]},{r[5]},{r[6]},{r[7]}\n",
    # source, event_id, occurred_at, position, unit_id, staff_id, code, unit_wide, month
    "findings": lambda r: (
        f"{r[0]},{_q(r[1])},{r[2]},{r[3]},{r[4]},{r[5] or ''},{r[6]},{_b(r[7])},{r[8]}\n"
    ),
    # source, event_id, occurred_at, commendation_id, unit_id, staff_id, kind, month
    "commendations": lambda r: (
        f"{r[0]},{_q(r[1])},{r[2]},{_q(r[3])},{r[4]},{r[5] or ''},{r[6]},{r[7]}\n"
    ),
    # source, event_id, digest, recorded_at, partition, offset
    "event_ids": lambda r: f"{r[0]},{_q(r[1])},{r[2]},{r[3]},{r[4]},{r[5]}\n",
}
