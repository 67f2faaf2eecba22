"""Policy what-if benchmark: `assessment rerule --no-switch` under a stricter policy, on
a database whose live version already holds a history. Not a test, a measurement.

    python -m bench.whatif --events 200000            # builds the history, then measures
    python -m bench.whatif --database-url URL         # an existing bench database

Building: N events generated as `make bench` generates them (bench/generator.py) are
written to a prefixed events.v1 and folded by `assessment replay` into a scratch
database (as bench/rebuild_bench.py does); then the what-if is timed. It reads nothing
from Kafka. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import asyncpg
from rich.console import Console

from bench.rebuild_bench import drop_database, rebuild, scratch_database, write_history
from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from shared.settings import KafkaSettings, load_settings
from shared.topics import TopicNames
from tests.support.policies import stricter_policy

BIN = Path(sys.executable).parent
console = Console(stderr=True)


async def live_events(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        schema = await conn.fetchval(
            "SELECT schema_name FROM assessment.versions WHERE state = 'live'"
        )
        if schema is None:
            raise SystemExit("the database has no live projection version")
        count: int = await conn.fetchval(f'SELECT count(*) FROM "{schema}".event_ids')
        return count
    finally:
        await conn.close()


async def measure_whatif(
    database_url: str,
    *,
    workers: int | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, float | int]:
    """Time `assessment rerule --no-switch` under a stricter policy, end to end (the
    command as an operator runs it, process start included).

    Expects `database_url` (the owner's: rerule creates a schema) to name a database
    the assessment has migrated, whose live version holds the history — e.g.
    bench/rebuild_bench.py's rebuild database after its replay, before it is dropped —
    and no rebuild running on it. `env`: the assessment CLI's other settings (Kafka's,
    though a what-if does not connect to it; default: this process's environment).
    Leaves the database as it found it: the what-if version is dropped afterwards.

    Returns {"whatif_events": events in the live version, "whatif_seconds": the command's
    wall time, "whatif_build_seconds": the rerule's own time (lock to report),
    "workers": evaluation worker processes}."""
    events = await live_events(database_url)
    chosen = workers or max(1, os.cpu_count() or 1)
    child_env = {
        **(env if env is not None else os.environ),
        "DATABASE_URL": database_url,
        "DATABASE_OWNER_URL": database_url,
        "DATABASE_READ_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "COLUMNS": "200",  # the report on one line per fact
    }
    with tempfile.TemporaryDirectory() as folder:
        strict = stricter_policy(Path(folder), version="2026.1-whatif", name="whatif-strict.toml")
        command = [
            str(BIN / "assessment"), "rerule", "--policy", str(strict),
            "--no-switch", "--workers", str(chosen),
        ]  # fmt: skip
        started = time.perf_counter()
        done = await asyncio.to_thread(_run, command, child_env)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"rerule failed:\n{done.stdout}\n{done.stderr}")
    console.print(done.stdout.strip())
    found = re.search(r"version (\d+) is built.*?records\s+in\s+([\d.]+) s", done.stdout, re.S)
    if found is None:
        raise SystemExit(f"unexpected output of rerule:\n{done.stdout}")
    version, build_seconds = int(found[1]), float(found[2])
    dropped = await asyncio.to_thread(
        _run, [str(BIN / "assessment"), "versions", "drop", str(version)], child_env
    )
    if dropped.returncode != 0:
        raise SystemExit(f"could not drop the what-if version {version}:\n{dropped.stdout}")
    return {
        "whatif_events": events,
        "whatif_seconds": round(seconds, 2),
        "whatif_build_seconds": round(build_seconds, 2),
        "workers": chosen,
    }


def _run(command: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


async def build_history(events: int, batch: int) -> tuple[str, str, str, dict[str, str]]:
    """A scratch database whose live version holds `events` generated events;
    returns (database url, database name, topic prefix, the CLI's Kafka settings)."""
    kafka = load_settings(KafkaSettings).kafka
    base_url = os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]
    run_id = uuid.uuid4().hex[:8]
    prefix = f"bench-{run_id}."
    await ensure_topics(
        kafka=kafka, specs=platform_topics(TopicNames.with_prefix(prefix)), partitions=6
    )
    console.print(f"writing {events:,} events ...")
    await write_history(kafka, TopicNames.with_prefix(prefix).events, events)
    name = f"bench_{run_id}_whatif"
    url = await scratch_database(base_url, name)
    env = {**kafka.environment(), "KAFKA_TOPIC_PREFIX": prefix}
    console.print("folding them with assessment replay ...")
    replay_s = rebuild(
        {
            **env,
            "DATABASE_URL": url,
            "DATABASE_OWNER_URL": url,
            "DATABASE_READ_URL": url,
            "ASSESSMENT_REBUILD_BATCH": str(batch),
            "LOG_LEVEL": "WARNING",
        }
    ).seconds
    console.print(f"  replayed in {replay_s:.1f} s")
    return url, name, prefix, env


async def run(args: argparse.Namespace) -> dict[str, float | int]:
    if args.database_url:
        return await measure_whatif(args.database_url, workers=args.workers)
    url, name, prefix, env = await build_history(args.events, args.batch)
    base_url = os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]
    try:
        return await measure_whatif(url, workers=args.workers, env={**os.environ, **env})
    finally:
        if not args.keep:
            await drop_database(base_url, name)
            await delete_topics(kafka=load_settings(KafkaSettings).kafka, prefix=prefix)
        else:
            console.print(f"kept: {url} (topics {prefix}*)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--events", type=int, help="build a history of this many events")
    source.add_argument("--database-url", help="measure on this already-built database")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--batch", type=int, default=20_000, help="the replay's batch")
    parser.add_argument("--keep", action="store_true", help="keep the database and topics")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
