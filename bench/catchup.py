"""Live catch-up benchmark: a backlog folded by K running assessment instances.

`python -m bench.catchup --events N --instances K` (under stack/with-infra.sh): with
the assessment stopped, N generated events are written to events.v1 (as the rebuild
benchmark writes its history: keyed by unit, 6 partitions); then K instances start,
in one consumer group, and the clock runs until the live version's stored positions
reach the topic's end offsets. This is the incremental path (the consumer's fold,
scope locks and all), not the rebuild. Prints one JSON line:
{"catchup_events", "catchup_seconds", "catchup_rate", "instances", ...}.

Not a test: figures from a shared 2-core machine are noisy; compare within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from bench.rebuild_bench import ceiling, drop_database, scratch_database, write_history
from shared.kafka_client import KafkaConnection
from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from shared.settings import KafkaSettings, load_settings
from shared.tokens import token_digest
from shared.topics import TopicNames
from tests.support.processes import ServiceProcess, assessment_process
from tests.support.stack import free_port
from tests.support.topics import end_offsets

PARTITIONS = 6
POLL_S = 0.05


async def measure_catchup(
    *,
    kafka: KafkaConnection,
    owner_url: str,
    instances: int,
    events: int | None = None,
    prefix: str | None = None,
    batch_max: int | None = None,
    logs: Path | None = None,
    timeout_s: float = 1800.0,
) -> dict[str, Any]:
    """Catch-up of a backlog by `instances` assessment processes; returns the figures.

    `prefix`: topics (`<prefix>events.v1`, ...) that already hold the history (the
    rebuild benchmark's); without it, topics of its own are created and `events`
    generated events written to them (and the topics deleted afterwards). The
    projections go to a scratch database created with `owner_url` (the owner role:
    it creates databases) and dropped afterwards; the database is migrated before the
    clock starts. `batch_max` sets ASSESSMENT_BATCH_MAX (the service's default when
    None). Figures:
    - catchup_seconds: from starting the instances to every record folded (start-up,
      group join and rebalances included: what an operator waits);
    - fold_seconds: from the first record folded to the last;
    - catchup_rate: catchup_events / catchup_seconds;
    - cpu_seconds: user + system CPU of the instances together;
    - postgres_cpu_seconds: the same of the database server's processes (when it runs
      on this machine; its backends and background processes, as pg_stat_activity
      lists them).
    """
    run_id = uuid.uuid4().hex[:8]
    own_topics = prefix is None
    prefix = prefix if prefix is not None else f"catchup-{run_id}."
    names = TopicNames.with_prefix(prefix)
    if own_topics:
        if events is None:
            raise ValueError("events is needed when no prefix names a history")
        await ensure_topics(kafka=kafka, specs=platform_topics(names), partitions=PARTITIONS)
        await write_history(kafka, names.events, events)
    ends = await end_offsets(kafka, names.events)
    total = sum(ends.values())
    database = f"catchup_{run_id}"
    url = await scratch_database(owner_url, database)
    logs = logs or Path(os.environ.get("BENCH_LOGS", "/tmp"))
    env = {
        **kafka.environment(),
        "KAFKA_TOPIC_PREFIX": prefix,
        "DATABASE_URL": url,  # one role for all in the scratch database (its owner)
        "DATABASE_OWNER_URL": url,
        "DATABASE_READ_URL": url,
        "ASSESSMENT_GROUP": f"catchup-{run_id}",
        "READ_TOKENS": token_digest(f"catchup-{run_id}"),
        "LOG_LEVEL": "WARNING",
        **({"ASSESSMENT_BATCH_MAX": str(batch_max)} if batch_max else {}),
    }
    processes: list[ServiceProcess] = []
    try:
        # Migrations and the first version, before the clock: a query-only instance.
        migrating = assessment_process(env=env, port=free_port(), consumer=False,
                                       log=logs / f"catchup-{run_id}-migrate.log")  # fmt: skip
        processes.append(migrating)
        await asyncio.to_thread(migrating.start().wait_ready, 120)
        migrating.stop()
        conn = await asyncpg.connect(url)
        try:
            schema = await conn.fetchval(
                "SELECT schema_name FROM assessment.versions WHERE state = 'live'"
            )
            pg_before = await _postgres_cpu(conn)
            started = time.perf_counter()
            for n in range(1, instances + 1):
                process = assessment_process(
                    env=env, port=free_port(), log=logs / f"catchup-{run_id}-{n}.log"
                )
                processes.append(process.start())
            first_fold, done = await _wait_folded(conn, schema, names.events, ends, timeout_s)
            cpu = sum(_cpu_seconds(p.process.pid) for p in processes[1:] if p.process)
            pg_after = await _postgres_cpu(conn)
        finally:
            await conn.close()
        pg_cpu = sum(t - pg_before.get(pid, 0.0) for pid, t in pg_after.items())
    finally:
        for process in processes:
            process.stop()
        await drop_database(owner_url, database)
        if own_topics:
            await delete_topics(kafka=kafka, prefix=prefix)
    seconds = done - started
    return {
        "catchup_events": total,
        "catchup_seconds": round(seconds, 2),
        "catchup_rate": round(total / seconds),
        "instances": instances,
        "fold_seconds": round(done - first_fold, 2),
        "cpu_seconds": round(cpu, 1),
        "postgres_cpu_seconds": round(pg_cpu, 1),
    }


async def _wait_folded(
    conn: asyncpg.Connection, schema: str, topic: str, ends: dict[int, int], timeout_s: float
) -> tuple[float, float]:
    """(when the first record was seen folded, when the last was), perf_counter."""
    deadline = time.perf_counter() + timeout_s
    first: float | None = None
    while time.perf_counter() < deadline:
        rows = await conn.fetch(
            f'SELECT partition, "offset" FROM {schema}.positions WHERE topic = $1', topic
        )
        now = time.perf_counter()
        positions = {r["partition"]: r["offset"] for r in rows}
        if positions and first is None:
            first = now
        if all(positions.get(p, -1) + 1 >= end for p, end in ends.items()):
            return (first or now), now
        await asyncio.sleep(POLL_S)
    raise TimeoutError(f"not caught up after {timeout_s:.0f} s")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (its threads included); 0 if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


async def _postgres_cpu(conn: asyncpg.Connection) -> dict[int, float]:
    """CPU seconds so far of each server process (0 where it is not on this machine)."""
    pids = [r["pid"] for r in await conn.fetch("SELECT pid FROM pg_stat_activity")]
    return {pid: _cpu_seconds(pid) for pid in pids}


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    kafka = load_settings(KafkaSettings).kafka  # from the environment, as the services
    owner_url = os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]
    prefix = f"catchup-{uuid.uuid4().hex[:8]}."
    names = TopicNames.with_prefix(prefix)
    await ensure_topics(kafka=kafka, specs=platform_topics(names), partitions=PARTITIONS)
    results = []
    try:
        await write_history(kafka, names.events, args.events)
        ceiling_eps = None
        if args.ceiling:
            database = f"catchup_ceiling_{uuid.uuid4().hex[:8]}"
            url = await scratch_database(owner_url, database)
            try:
                ceiling_eps = await ceiling(kafka, names.events, url, 20_000)
            finally:
                await drop_database(owner_url, database)
        for instances in args.instances:  # one history, measured with each count
            result = await measure_catchup(
                kafka=kafka,
                owner_url=owner_url,
                instances=instances,
                prefix=prefix,
                batch_max=args.batch,
            )
            if ceiling_eps is not None:
                result["ceiling_eps"] = round(ceiling_eps)
                result["catchup_ratio"] = round(result["catchup_rate"] / ceiling_eps, 3)
            results.append(result)
    finally:
        await delete_topics(kafka=kafka, prefix=prefix)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--instances", type=int, nargs="+", default=[1], help="one or more counts, e.g. 1 2"
    )
    parser.add_argument("--batch", type=int, default=None, help="ASSESSMENT_BATCH_MAX")
    parser.add_argument(
        "--ceiling", action=argparse.BooleanOptionalAction, default=True,
        help="also measure the bare consumer + COPY ceiling on the same history",
    )  # fmt: skip
    args = parser.parse_args()
    for result in asyncio.run(run(args)):
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
