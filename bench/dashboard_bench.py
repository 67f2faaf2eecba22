"""Dashboard benchmark (`make bench-dashboard`, N=events): not a test, a measurement.

Loads N synthetic events (bench/generator.py) into a fresh projection with `assessment
replay`, starts the assessment (query side only), and times every dashboard page over
a real socket, sequentially: a few warm-up requests, then `--rounds` timed ones per
page. The goal is under 200 ms per page on the server; the time measured here is the
client's (request sent to last byte read, on 127.0.0.1), which includes the server's.
Prints a table and a final JSON line. `--database-url` reuses a database loaded before
(with `--keep`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
from rich.console import Console
from rich.table import Table

from bench.rebuild_bench import drop_database, rebuild, scratch_database, write_history
from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from shared.settings import KafkaSettings, load_settings
from shared.tokens import token_digest
from shared.topics import TopicNames
from tests.support.processes import ServiceProcess, assessment_process
from tests.support.stack import free_port

BIN = Path(sys.executable).parent
TOKEN = "bench-read-token"
console = Console(stderr=True)
GOAL_MS = 200


def pages(unit: str, staff: str, year: int) -> dict[str, str]:
    u = quote(unit, safe="")
    return {
        "ranking (year)": f"/dashboard?period={year}",
        "ranking (month)": f"/dashboard?period={year}-06",
        "trend (12 months)": f"/dashboard/trend?unit={u}&from={year}-01&to={year}-12",
        "watchlist": f"/dashboard/watchlist?as_of={year}-06-30",
        "overdue (all units)": f"/dashboard/overdue?as_of={year}-09-30",
        "scorecard": f"/dashboard/staff?staff={quote(staff, safe='')}&year={year}",
        "unit warnings+alerts": f"/dashboard/unit?unit={u}&year={year}",
        # The JSON API for the same inputs: what the machine gives any request, so that a
        # loaded machine is told apart from the dashboard's own cost.
        "api: stats (12 months)": f"/v1/units/{u}/stats?from={year}-01&to={year}-12",
        "api: watchlist": f"/v1/watchlist?as_of={year}-06-30T23:59:59%2B08:00",
        "api: overdue": f"/v1/complaints/overdue?as_of={year}-09-30T23:59:59%2B08:00",
        "api: scorecard": f"/v1/staff/{quote(staff, safe='')}/scorecard?year={year}",
        "api: status": "/v1/status",
    }


async def time_pages(base: str, paths: dict[str, str], rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for name, path in paths.items():
            for _ in range(3):  # warm-up: connection pool, template compile, caches
                answer = await client.get(path)
                if answer.status_code != 200:
                    raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
            samples = []
            for _ in range(rounds):
                started = time.perf_counter()
                answer = await client.get(path)
                samples.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200
            timings[name] = samples
    return timings


async def busiest(base: str, year: int) -> tuple[str, str]:
    """The unit at the top of the ranking, and its most warned staff member."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        page = await client.get("/v1/warnings", params={"from": f"{year}-01", "limit": 500})
        items = page.json()["items"]
    counts: dict[tuple[str, str], int] = {}
    for w in items:
        counts[(w["unit_id"], w["staff_id"])] = counts.get((w["unit_id"], w["staff_id"]), 0) + 1
    unit, staff = max(counts, key=lambda k: counts[k])
    return unit, staff


async def run(args: argparse.Namespace) -> dict[str, object]:
    kafka = load_settings(KafkaSettings).kafka  # from the environment, as the services
    # The owner's role creates the scratch database (stack/postgres.sh)
    base_url = os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]
    run_id = uuid.uuid4().hex[:8]
    prefix = f"bench-{run_id}."
    names = TopicNames.with_prefix(prefix)
    database, created = args.database_url, None
    await ensure_topics(kafka=kafka, specs=platform_topics(names), partitions=6)
    # One role for everything in the benchmark's scratch database (its owner).
    roles = ("DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_READ_URL")
    if database is None:
        console.print(f"writing {args.events:,} events to {names.events} ...")
        await write_history(kafka, names.events, args.events)
        created = f"bench_{run_id}_dashboard"
        database = await scratch_database(base_url, created)
        console.print("loading them: assessment replay ...")
        loaded = rebuild(
            {**kafka.environment(), **dict.fromkeys(roles, database),
             "KAFKA_TOPIC_PREFIX": prefix, "LOG_LEVEL": "WARNING"}
        )  # fmt: skip
        console.print(f"  loaded in {loaded.seconds:.0f} s; database {database}")
    port = free_port()
    service: ServiceProcess = assessment_process(
        env={**kafka.environment(), **dict.fromkeys(roles, database),
             "KAFKA_TOPIC_PREFIX": prefix, "READ_TOKENS": token_digest(TOKEN),
             "LOG_LEVEL": "WARNING"},
        port=port, log=Path(f"/tmp/dashboard-bench-{run_id}.log"), consumer=False,
    )  # fmt: skip
    try:
        service.start().wait_ready(timeout=120)
        base = f"http://127.0.0.1:{port}"
        unit, staff = await busiest(base, args.year)
        console.print(f"timing pages for unit {unit}, staff {staff}, year {args.year} ...")
        timings = await time_pages(base, pages(unit, staff, args.year), args.rounds)
    finally:
        service.stop()
        await delete_topics(kafka=kafka, prefix=prefix)
        if created and not args.keep:
            await drop_database(base_url, created)
    return {
        "events": args.events if created else "existing database",
        "rounds": args.rounds,
        "pages": {
            name: {
                "p50_ms": round(statistics.median(s), 1),
                "p95_ms": round(sorted(s)[max(0, int(len(s) * 0.95) - 1)], 1),
                "max_ms": round(max(s), 1),
            }
            for name, s in timings.items()
        },
    }


def print_table(result: dict[str, object]) -> None:
    table = Table(title=f"dashboard pages — {result['events']} events, {result['rounds']} rounds")
    for column in ("page", "p50 ms", "p95 ms", "max ms", f"goal < {GOAL_MS} ms"):
        table.add_column(column, justify="left" if column == "page" else "right")
    pages_result = result["pages"]
    assert isinstance(pages_result, dict)
    for name, figures in pages_result.items():
        ok = "" if name.startswith("api:") else "yes" if figures["p95_ms"] < GOAL_MS else "NO"
        table.add_row(name, *(f"{figures[k]:,}" for k in ("p50_ms", "p95_ms", "max_ms")), ok)
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--database-url", help="an already loaded database (skips loading)")
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print_table(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
