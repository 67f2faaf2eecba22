"""Rebuild benchmark (`make bench`, N=events): not a test, a measurement.

In one run, on the real local Kafka and PostgreSQL:
  (a) ceiling — a bare aiokafka consumer reads the topic in batches and COPYs raw
      rows into PostgreSQL;
  (b) rebuild — `assessment replay` folds every projection from that topic into a
      new version (a separate process: its peak RSS is its own);
  (c) live — intake 202 → visible in the query API, at a steady 500 events/s.
Prints a table and a final JSON line, and appends that JSON with the commit id to
docs/bench/history.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import orjson
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


def rebuild(env: dict[str, str]) -> tuple[float, str]:
    """Runs `assessment replay`; returns (seconds, output)."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "assessment"), "replay"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"replay failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


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
        rebuild_s, output = rebuild(env)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rebuild_eps = args.events / rebuild_s
        console.print(output.strip())

        live: dict[str, float | None] = {"p50_ms": None, "p99_ms": None}
        if not args.skip_live:
            console.print(f"(c) live: {args.rate} events/s for {args.seconds} s ...")
            live = await measure_live_latency(
                kafka=kafka,
                database_url=rebuild_url,
                prefix=prefix,
                rate=args.rate,
                seconds=args.seconds,
            )
    finally:
        if not args.keep:
            await drop_database(base_url, ceiling_db)
            await drop_database(base_url, rebuild_db)

    return {
        "events": args.events,
        "ceiling_eps": round(ceiling_eps),
        "rebuild_eps": round(rebuild_eps),
        "ratio": round(rebuild_eps / ceiling_eps, 2),
        "rebuild_s": round(rebuild_s, 1),
        "peak_rss_mb": round(peak_rss_mb),
        "live_p50_ms": live["p50_ms"],
        "live_p99_ms": live["p99_ms"],
    }


def print_table(result: dict[str, float | int | None]) -> None:
    table = Table(title=f"rebuild benchmark — {result['events']:,} events")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    goals = {
        "ratio": "≥ 0.5",
        "rebuild_s": "≤ 60 (1M)",
        "peak_rss_mb": "≤ 1024",
        "live_p99_ms": "≤ 250",
    }
    for key, value in result.items():
        table.add_row(key, "-" if value is None else f"{value:,}", goals.get(key, ""))
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=500, help="live events/s")
    parser.add_argument("--seconds", type=int, default=60, help="live duration")
    parser.add_argument("--skip-live", action="store_true")
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
