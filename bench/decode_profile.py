"""Per-event cost of each step of the rebuild's decode worker (not a test, a measurement).

Runs `adapters.bulk_decode.decode_chunk`'s steps one at a time over batches of generated
events in the contract's wire form (as `make bench` writes them), in one process, and
prints µs/event per step — through the pydantic contract (before) and through the
msgspec Structs (after) — with the collector as the services tune it and with it off:
the difference is the cyclic collector walking the objects a batch keeps alive.
Timed in CPU seconds of this process (time.process_time): a loaded machine stretches
wall time, much less the CPU a step uses; relative costs are the figures to trust.

    .venv/bin/python -m bench.decode_profile --events 100000 --batch 20000
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from bench.generator import Generator, units_for
from services.assessment.adapters.bulk_decode import _csv
from services.assessment.adapters.projection_store import fact_rows
from services.assessment.domain.event_facts import facts_from_events
from services.assessment.domain.records import (
    decode_value,
    decode_value_fast,
    digest_of,
    store_problem,
)
from shared.runtime import tune_garbage_collector

TZ = ZoneInfo("Asia/Shanghai")


def values(n: int) -> list[bytes]:
    return [
        orjson.dumps({**event, "recorded_at": "2026-11-01T00:00:00Z"})
        for event in Generator(seed=2026, units=units_for(n)).events(n)
    ]


def steps(batch: list[bytes], *, fast: bool) -> dict[str, float]:
    """Seconds per step over one batch; every step's results stay alive, as in a worker."""
    seconds: dict[str, float] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        started = time.process_time()
        result = work()
        seconds[name] = time.process_time() - started
        return result

    decode = decode_value_fast if fast else decode_value
    events: list[Any] = timed("parse", lambda: [decode(v, "1") for v in batch])
    timed("store_problem", lambda: [store_problem(e) for e in events])
    timed("content_digest", lambda: [digest_of(e) for e in events])
    facts = timed("facts_from_events", lambda: facts_from_events(events))
    rows = timed("fact_rows", lambda: fact_rows(facts, TZ))
    timed("csv", lambda: {table: _csv(r) for table, r in rows.items()})
    return seconds


def measure(data: list[bytes], batch: int, *, fast: bool) -> dict[str, float]:
    total: dict[str, float] = {}
    for start in range(0, len(data), batch):
        for name, s in steps(data[start : start + batch], fast=fast).items():
            total[name] = total.get(name, 0.0) + s
    return {name: s / len(data) * 1e6 for name, s in total.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=20_000)
    args = parser.parse_args()
    data = values(args.events)
    columns: dict[str, dict[str, float]] = {}
    # Python's default collector first (threshold 700), as the issue measured it.
    gc.collect()
    columns["pydantic gc default"] = measure(data, args.batch, fast=False)
    tune_garbage_collector()
    gc.collect()
    for fast in (False, True):
        form = "msgspec" if fast else "pydantic"
        columns[f"{form} gc tuned"] = measure(data, args.batch, fast=fast)
        gc.disable()
        columns[f"{form} gc off"] = measure(data, args.batch, fast=fast)
        gc.enable()
    names = list(next(iter(columns.values())))
    print(f"{'µs/event':<18}" + "".join(f"{title:>20}" for title in columns))
    for name in [*names, "total"]:
        cells = (
            sum(column.values()) if name == "total" else column[name] for column in columns.values()
        )
        print(f"{name:<18}" + "".join(f"{cell:>20.2f}" for cell in cells))
    print(json.dumps(columns))


if __name__ == "__main__":
    main()
