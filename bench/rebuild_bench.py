"""Rebuild benchmark (`make bench`, N=events): not a test, a measurement.

In one run, on the real local Kafka and PostgreSQL:
  (a) ceiling — a bare aiokafka consumer reads the topic in batches and COPYs raw
      rows into PostgreSQL;
  (b) rebuild — `assessment replay` folds every projection from that topic into a
      new version (a separate process; its peak RSS is that of the whole process tree,
      the replay and its decode workers together, and its CPU time is the tree's);
  (c) what-if — `assessment rerule --no-switch` under a stricter policy, from the facts
      the rebuild stored (no Kafka read; bench/whatif.py);
  (d) catch-up — the same history as a backlog, folded by the running service's
      incremental path with 1 and 2 instances (`--instances`; bench/catchup.py);
  (e) live — intake 202 → visible in the query API, at each steady rate of `--rates`
      (500 and 2,000 events/s by default).
Ratios (rebuild, catch-up) are taken against the ceiling of the same run.
Prints a table and a final JSON line, and appends that JSON with the commit id to
docs/bench/history.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import orjson
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.console import Console
from rich.table import Table

from bench.generator import Generator, units_for
from bench.live_latency import measure_live_latency
from shared import topics
from shared.events import SCHEMA_VERSION
from shared.kafka_client import KafkaConnection, aiokafka_options
from shared.kafka_topics import ensure_topics, platform_topics, topic_partitions
from shared.settings import KafkaSettings, load_settings
from shared.topics import TopicNames

BIN = Path(sys.executable).parent
console = Console(stderr=True)


async def write_history(kafka: KafkaConnection, topic: str, n: int) -> float:
    """Generate and publish n events (streamed: never all in memory); returns seconds."""
    producer = AIOKafkaProducer(
        **aiokafka_options(kafka),
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    started = time.perf_counter()
    headers = [(topics.HEADER_SCHEMA_VERSION, str(SCHEMA_VERSION).encode())]
    try:
        pending = []
        for event in Generator(seed=2026, units=units_for(n)).events(n):
            value = orjson.dumps({**event, "recorded_at": "2026-11-01T00:00:00Z"})
            pending.append(
                await producer.send(topic, value, key=event["unit_id"].encode(), headers=headers)
            )
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def ceiling(kafka: KafkaConnection, topic: str, database_url: str, batch: int) -> float:
    """Bare consumer + COPY of raw rows: the most a rebuild could do; events/s."""
    conn = await asyncpg.connect(database_url)
    await conn.execute(
        'CREATE TABLE raw_events (partition int, "offset" bigint, key bytea, value bytea)'
    )
    partitions = [
        TopicPartition(topic, p) for p in await topic_partitions(kafka=kafka, topic=topic)
    ]
    consumer = AIOKafkaConsumer(
        **aiokafka_options(kafka),
        enable_auto_commit=False,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        check_crcs=False,
    )
    await consumer.start()
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    ends = await consumer.end_offsets(partitions)
    total = 0
    started = time.perf_counter()
    try:
        remaining = {tp for tp, end in ends.items() if end > 0}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch)
            rows = [
                (r.partition, r.offset, r.key, r.value)
                for records in fetched.values()
                for r in records
            ]
            if rows:
                await conn.copy_records_to_table(
                    "raw_events", records=rows, columns=["partition", "offset", "key", "value"]
                )
                total += len(rows)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        seconds = time.perf_counter() - started
    finally:
        await consumer.stop()
        await conn.close()
    return total / seconds


class TreeSampler:
    """Peak of the summed resident memory of a process and all its descendants (the
    replay and its decode workers), sampled every `interval` seconds: the kernel's
    ru_maxrss of RUSAGE_CHILDREN is the largest single child, not the sum."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self._root = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self.peak_bytes = 0
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> int:
        total = 0
        try:
            tree = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:  # the root has ended
            return 0
        for process in tree:
            try:
                total += process.memory_info().rss
            except psutil.Error:  # a worker ended between the listing and the read
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self.sample())
            self._stop.wait(self._interval)


@dataclass(frozen=True, slots=True)
class RebuildRun:
    seconds: float
    cpu_seconds: float  # user + system of the replay and its workers
    peak_rss_bytes: int  # of the process tree, summed
    output: str


def rebuild(env: dict[str, str]) -> RebuildRun:
    """Runs `assessment replay` and samples its process tree."""
    before = os.times()
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "assessment"), "replay"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with TreeSampler(process.pid) as sampler:
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    after = os.times()
    if process.returncode != 0:
        raise SystemExit(f"replay failed:\n{stdout}\n{stderr}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return RebuildRun(seconds, cpu, sampler.peak_bytes, stdout)


async def scratch_database(base_url: str, name: str) -> str:
    conn = await asyncpg.connect(base_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{base_url.rsplit('/', 1)[0]}/{name}"


async def drop_database(base_url: str, name: str) -> None:
    conn = await asyncpg.connect(base_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> dict[str, float | int | None]:
    kafka = load_settings(KafkaSettings).kafka  # from the environment, as the services
    # The owner's role creates the scratch databases (stack/postgres.sh)
    base_url = os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]
    run_id = uuid.uuid4().hex[:8]
    prefix = f"bench-{run_id}."
    names = TopicNames.with_prefix(prefix)
    await ensure_topics(kafka=kafka, specs=platform_topics(names), partitions=6)

    console.print(f"writing {args.events:,} events to {names.events} ...")
    write_s = await write_history(kafka, names.events, args.events)
    console.print(f"  written in {write_s:.1f} s ({args.events / write_s:,.0f}/s)")

    ceiling_db = f"bench_{run_id}_ceiling"
    rebuild_db = f"bench_{run_id}_rebuild"
    ceiling_url = await scratch_database(base_url, ceiling_db)
    rebuild_url = await scratch_database(base_url, rebuild_db)
    try:
        console.print("(a) ceiling: bare consumer + COPY ...")
        ceiling_eps = await ceiling(kafka, names.events, ceiling_url, args.batch)
        console.print(f"  {ceiling_eps:,.0f} events/s")

        console.print("(b) rebuild: assessment replay ...")
        env = {
            **kafka.environment(),
            "DATABASE_URL": rebuild_url,
            "DATABASE_OWNER_URL": rebuild_url,
            "DATABASE_READ_URL": rebuild_url,
            "KAFKA_TOPIC_PREFIX": prefix,
            "ASSESSMENT_REBUILD_BATCH": str(args.batch),
            "LOG_LEVEL": "WARNING",
        }
        run = rebuild(env)
        rebuild_eps = args.events / run.seconds
        console.print(run.output.strip())

        # (c) and (d) before the live runs, which add events to the topic and the version.
        whatif: dict[str, float | int | None] = {"whatif_s": None, "whatif_workers": None}
        if not args.skip_whatif:
            from bench.whatif import measure_whatif  # it imports this module

            console.print("(c) what-if: assessment rerule --no-switch, stricter policy ...")
            measured = await measure_whatif(rebuild_url, env=env)
            whatif = {"whatif_s": measured["whatif_seconds"], "whatif_workers": measured["workers"]}
            console.print(f"  {measured['whatif_seconds']} s")
        catchup: dict[str, float | int | None] = {}
        for instances in args.instances:
            from bench.catchup import measure_catchup  # it imports this module

            console.print(f"(d) catch-up: the backlog folded live by {instances} instance(s) ...")
            folded = await measure_catchup(
                kafka=kafka, owner_url=base_url, instances=instances, prefix=prefix
            )
            catchup[f"catchup_eps_{instances}"] = folded["catchup_rate"]
            catchup[f"catchup_ratio_{instances}"] = round(folded["catchup_rate"] / ceiling_eps, 2)
            console.print(f"  {folded['catchup_rate']:,} events/s")

        live: dict[str, float | None] = {}
        for rate in args.rates:
            latency: dict[str, float | None] = {"p50_ms": None, "p99_ms": None}
            if not args.skip_live:
                console.print(f"(e) live: {rate:,} events/s for {args.seconds} s ...")
                latency = await measure_live_latency(
                    kafka=kafka,
                    database_url=rebuild_url,
                    prefix=prefix,
                    rate=rate,
                    seconds=args.seconds,
                    tag=f"r{rate}-",
                )
            live[f"live_p50_ms_{rate}"] = latency["p50_ms"]
            live[f"live_p99_ms_{rate}"] = latency["p99_ms"]
    finally:
        if not args.keep:
            await drop_database(base_url, ceiling_db)
            await drop_database(base_url, rebuild_db)

    return {
        "events": args.events,
        "ceiling_eps": round(ceiling_eps),
        "rebuild_eps": round(rebuild_eps),
        "ratio": round(rebuild_eps / ceiling_eps, 2),
        "rebuild_s": round(run.seconds, 1),
        "rebuild_cpu_s": round(run.cpu_seconds, 1),
        "peak_rss_mb": round(run.peak_rss_bytes / 2**20),
        **whatif,
        **catchup,
        **live,
    }


def print_table(result: dict[str, float | int | None]) -> None:
    table = Table(title=f"rebuild benchmark — {result['events']:,} events")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    goals = {
        "ratio": "≥ 0.5",
        "rebuild_s": "≤ 20 (1M)",
        "peak_rss_mb": "≤ 1024",
        "whatif_s": "≤ 5 (1M)",
    }
    for key, value in result.items():
        goal = goals.get(key, "")
        if key.startswith("live_p99_ms"):
            goal = "≤ 250"
        elif key.startswith("catchup_ratio"):
            goal = "≥ 0.3"
        table.add_row(key, "-" if value is None else f"{value:,}", goal)
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument(
        "--rates",
        type=_rates,
        default=[500, 2000],
        help="live events/s, comma-separated: one live measurement per rate",
    )
    parser.add_argument("--seconds", type=int, default=60, help="live duration, per rate")
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--skip-whatif", action="store_true")
    parser.add_argument(
        "--instances",
        type=_rates,
        default=[1, 2],
        help="catch-up: live instances, comma-separated, one measurement each ('' for none)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument(
        "--no-history", action="store_true", help="do not append to docs/bench/history.jsonl"
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print_table(result)
    print(json.dumps(result))
    if not args.no_history:
        append_history(result)


def _rates(text: str) -> list[int]:  # also the instances' list
    return [int(rate) for rate in text.split(",") if rate.strip()]


HISTORY = Path(__file__).resolve().parent.parent / "docs" / "bench" / "history.jsonl"


def append_history(result: dict[str, float | int | None]) -> None:
    """One line per run with the commit it measured (progress you can see over time).
    `load` is the 1-minute load average at the end: figures from a busy machine say so."""
    HISTORY.parent.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=HISTORY.parent,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=HISTORY.parent,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    line = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": (commit or "unknown") + ("+dirty" if dirty else ""),
        "load": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
        **result,
    }
    with HISTORY.open("a") as out:
        out.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
