"""Per-event cost of each step of the rebuild's decode worker (not a test, a measurement).

Runs `adapters.bulk_decode.decode_chunk`'s steps one at a time over batches of generated
events in the contract's wire form (as `make bench` writes them), in one process, and
prints µs/event per step — through the msgspec Structs (the worker's path) and through
the pydantic contract (the path of events only the contract accepts, which builds facts
and rows as the incremental fold does) — with the collector as the services tune it
and with it off: the difference is the cyclic collector walking the objects a batch
keeps alive. Timed in CPU seconds of this process (time.process_time): a loaded
machine stretches wall time, much less the CPU a step uses; relative costs are the
figures to trust.

    .venv/bin/python -m bench.decode_profile --events 100000 --batch 20000
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import orjson

from bench.generator import Generator, units_for
from services.assessment.adapters.bulk_decode import TABLES, csv_payload, table_rows
from services.assessment.domain.records import decode_value, decode_value_fast, digest_of
from shared.runtime import tune_garbage_collector

TIME_ZONE = "Asia/Shanghai"
STEPS = ("parse", "rows", "csv")  # the worker's steps; their sum is its CPU per event


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
    positions = [(0, offset) for offset in range(len(batch))]
    rows = timed("rows", lambda: table_rows(events, positions, TIME_ZONE))
    timed("csv", lambda: [csv_payload(table, rows[table]) for table in TABLES])
    # Part of "rows" (one per event): shown apart, not added to the total.
    timed("(digest, in rows)", lambda: [digest_of(e) for e in events])
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
    tune_garbage_collector()
    gc.collect()
    for fast in (True, False):
        form = "msgspec" if fast else "pydantic"
        columns[f"{form} gc tuned"] = measure(data, args.batch, fast=fast)
        gc.disable()
        columns[f"{form} gc off"] = measure(data, args.batch, fast=fast)
        gc.enable()
    names = list(next(iter(columns.values())))
    print(f"{'µs/event':<18}" + "".join(f"{title:>20}" for title in columns))
    for name in [*names, "total"]:
        cells = (
            sum(column[step] for step in STEPS) if name == "total" else column[name]
            for column in columns.values()
        )
        print(f"{name:<18}" + "".join(f"{cell:>20.2f}" for cell in cells))
    print(json.dumps(columns))


if __name__ == "__main__":
    main()
