"""Intake throughput and latency against the real broker and a real intake server.

    python -m bench.intake_bench [--events 50000] [--rounds 3] [--clients 4]
                                 [--rate 200] [--seconds 15]

KAFKA_BOOTSTRAP (default localhost:9092) names the broker. The bench starts its own
`intake serve` on a free port with a topic prefix of its own, and deletes its topics
at the end. Three measurements:

(a) ceiling: a bare aiokafka producer with intake's settings (acks=all, idempotent),
    sending the same pre-serialised records with the same keys and headers;
(b) batch: POST /v1/events with 1000 events per request from `--clients` clients;
    (a) and (b) alternate for `--rounds` rounds and their medians are compared;
(c) single: one event per request at a steady `--rate` requests/s for `--seconds`,
    latency measured from each request's scheduled start (no coordinated omission).

Goals: batch >= 50% of the ceiling; single-event p99 <= 20 ms at 200 rps. The last
line printed is a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
from aiokafka import AIOKafkaProducer
from rich.console import Console
from rich.table import Table

from services.intake.domain.examples import EXAMPLES
from services.intake.domain.records import OutboundRecord, event_record
from shared.events import Event, parse_inbound
from shared.kafka_client import KafkaConnection
from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from shared.producer import producer_options
from shared.settings import KafkaSettings, load_settings
from shared.tokens import token_digest
from shared.topics import TopicNames

ROOT = Path(__file__).resolve().parents[1]
SERVER_LOG = ROOT / ".stack" / "intake-bench-server.log"
TOKEN = "bench-token"
BATCH = 1000
UNITS = [f"bench/unit-{n:03d}" for n in range(200)]
console = Console()


@dataclass
class Results:
    ceiling_eps: float
    batch_eps: float
    ceiling_cpu_us: float  # CPU of the producing process per event (the broker's not counted)
    batch_cpu_us: float
    single_p50_ms: float
    single_p99_ms: float
    single_max_ms: float
    single_sent: int
    single_errors: int

    @property
    def ratio(self) -> float:
        return self.batch_eps / self.ceiling_eps

    def as_json(self) -> dict[str, Any]:
        return {
            "ceiling_eps": round(self.ceiling_eps),
            "batch_eps": round(self.batch_eps),
            "batch_over_ceiling": round(self.ratio, 3),
            "ceiling_cpu_us_per_event": round(self.ceiling_cpu_us, 1),
            "intake_cpu_us_per_event": round(self.batch_cpu_us, 1),
            "single_p50_ms": round(self.single_p50_ms, 2),
            "single_p99_ms": round(self.single_p99_ms, 2),
            "single_max_ms": round(self.single_max_ms, 2),
            "single_requests": self.single_sent,
            "single_errors": self.single_errors,
            "goal_batch_ratio_met": self.ratio >= 0.5,
            "goal_single_p99_met": self.single_p99_ms <= 20.0,
        }


def make_events(count: int, run: str) -> list[bytes]:
    """`count` distinct, valid event envelopes (JSON), cycling through the four types."""
    templates = list(EXAMPLES.values())
    start = datetime.now(UTC) - timedelta(days=30)
    bodies = []
    for n in range(count):
        envelope = {
            **templates[n % len(templates)],
            "id": f"bench-{run}-{n:08d}",
            "unit_id": UNITS[n % len(UNITS)],
            "occurred_at": (start + timedelta(seconds=n)).isoformat(),
        }
        bodies.append(orjson.dumps(envelope))
    return bodies


def as_records(bodies: Sequence[bytes], topics: TopicNames) -> list[OutboundRecord]:
    now = datetime.now(UTC)
    events: list[Event] = [parse_inbound(b, received_at=now) for b in bodies]
    return [event_record(e, topic=topics.events, recorded_at=now) for e in events]


async def ceiling(kafka: KafkaConnection, records: Sequence[OutboundRecord]) -> tuple[float, float]:
    """(events/s, CPU µs per event of this process) for the bare producer."""
    producer = AIOKafkaProducer(**producer_options(kafka, client_id="bench-ceiling"))
    await producer.start()
    try:
        await producer.send_and_wait(records[0].topic, records[0].value, key=records[0].key)
        started, cpu = time.perf_counter(), time.process_time()
        futures = [
            await producer.send(r.topic, r.value, key=r.key, headers=list(r.headers))
            for r in records
        ]
        await asyncio.gather(*futures)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        return len(records) / elapsed, cpu / len(records) * 1e6
    finally:
        await producer.stop()


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


class Connection:
    """One keep-alive HTTP/1.1 connection. The load generator must cost far less than
    the server it measures: httpx spends ~4 ms of CPU per request on a small machine,
    which alone caps it below 200 requests/s, so the bench speaks HTTP itself."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: intake\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class Client:
    """A pool of keep-alive connections to the intake server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[Connection] = []
        self.opened: list[Connection] = []

    async def post(self, body: bytes) -> tuple[int, bytes]:
        connection = self.idle.pop() if self.idle else await self._open()
        try:
            result = await connection.post("/v1/events", body, TOKEN)
        except (ConnectionError, asyncio.IncompleteReadError, IndexError):
            # uvicorn closes connections idle for 5 s; open another (events are idempotent)
            connection.close()
            connection = await self._open()
            result = await connection.post("/v1/events", body, TOKEN)
        self.idle.append(connection)
        return result

    async def _open(self) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        connection = Connection(reader, writer)
        self.opened.append(connection)
        return connection

    def close(self) -> None:
        for connection in self.opened:
            connection.close()


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def start_server(
    kafka: KafkaConnection, prefix: str, port: int
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        **kafka.environment(),
        "KAFKA_TOPIC_PREFIX": prefix,
        "INTAKE_PORT": str(port),
        "INTAKE_TOKENS": json.dumps({token_digest(TOKEN): "*"}),
        "INTAKE_RATE_PER_S": "1000000",  # measure intake, not its rate limit
        "INTAKE_RATE_BURST": "1000000",
        "INTAKE_RAW_GROUP": f"{prefix}intake-raw",
    }
    SERVER_LOG.parent.mkdir(exist_ok=True)
    with SERVER_LOG.open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.intake.entrypoints.cli",
            "serve",
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )


async def wait_ready(client: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"intake serve exited; see {SERVER_LOG}")
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("intake serve did not become ready in 90 s")


async def stop_server(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def batch_throughput(
    client: Client, bodies: Sequence[bytes], clients: int, server: psutil.Process
) -> tuple[float, float]:
    """(events/s, the server's CPU µs per event) for 1000-event requests."""
    requests = [
        b"[" + b",".join(bodies[i : i + BATCH]) + b"]" for i in range(0, len(bodies), BATCH)
    ]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in requests:
        queue.put_nowait(body)

    async def worker() -> None:
        while not queue.empty():
            status, answer = await client.post(queue.get_nowait())
            if status != 202:
                raise RuntimeError(f"batch refused: {status} {answer[:200]!r}")

    started, cpu = time.perf_counter(), cpu_seconds(server)
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(server) - cpu
    return len(bodies) / elapsed, cpu / len(bodies) * 1e6


async def single_latency(
    client: Client, bodies: Sequence[bytes], rate: float, seconds: float
) -> tuple[list[float], int]:
    """Open loop: request n is due at start + n/rate, whatever happened to the others."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0

    async def one(body: bytes, scheduled: float) -> None:
        nonlocal errors
        status, _ = await client.post(body)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        if status != 202:
            errors += 1

    tasks = []
    start = time.perf_counter() + 0.1
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(bodies[n % len(bodies)], scheduled)))
    await asyncio.gather(*tasks)
    return latencies, errors


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(args: argparse.Namespace) -> Results:
    kafka = load_settings(KafkaSettings).kafka  # from the environment, as the services
    run_id = uuid.uuid4().hex[:8]
    prefix = f"bench-intake-{run_id}."
    topics = TopicNames.with_prefix(prefix)
    await ensure_topics(kafka=kafka, specs=platform_topics(topics), partitions=6)
    port = free_port()
    process = await start_server(kafka, prefix, port)
    client = Client(port)
    server = psutil.Process(process.pid)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as probe:
            await wait_ready(probe, process)
        await batch_throughput(client, make_events(2 * BATCH, "warm" + run_id), 2, server)
        ceilings: list[tuple[float, float]] = []
        batches: list[tuple[float, float]] = []
        # (a) and (b) alternate, and the medians are compared: on a shared machine the
        # load drifts, and one of each would measure the drift as much as intake.
        for n in range(1, args.rounds + 1):
            records = as_records(make_events(args.events, f"c{n}{run_id}"), topics)
            ceilings.append(await ceiling(kafka, records))
            batch_events = make_events(args.events, f"b{n}{run_id}")
            batches.append(await batch_throughput(client, batch_events, args.clients, server))
            console.print(
                f"round {n}: (a) ceiling {ceilings[-1][0]:,.0f} ev/s ({ceilings[-1][1]:.0f} µs"
                f" CPU/event), (b) batch {batches[-1][0]:,.0f} ev/s ({batches[-1][1]:.0f} µs"
                f" CPU/event): {batches[-1][0] / ceilings[-1][0]:.0%}"
            )
        singles = make_events(int(args.rate * args.seconds), "s" + run_id)
        await single_latency(client, singles[:200], args.rate, 1.0)  # warm-up
        latencies, errors = await single_latency(client, singles, args.rate, args.seconds)
    finally:
        client.close()
        await stop_server(process)
        await delete_topics(kafka=kafka, prefix=prefix)
    return Results(
        ceiling_eps=statistics.median(eps for eps, _ in ceilings),
        batch_eps=statistics.median(eps for eps, _ in batches),
        ceiling_cpu_us=statistics.median(cpu for _, cpu in ceilings),
        batch_cpu_us=statistics.median(cpu for _, cpu in batches),
        single_p50_ms=statistics.median(latencies),
        single_p99_ms=percentile(latencies, 0.99),
        single_max_ms=max(latencies),
        single_sent=len(latencies),
        single_errors=errors,
    )


def report(results: Results, args: argparse.Namespace) -> None:
    table = Table(title="intake bench")
    table.add_column("measurement")
    table.add_column("result", justify="right")
    table.add_column("goal", justify="right")
    table.add_row(
        f"(a) ceiling: bare idempotent producer (median of {args.rounds})",
        f"{results.ceiling_eps:,.0f} ev/s",
        "",
    )
    table.add_row(
        f"(b) POST 1000-event batches, {args.clients} clients (median)",
        f"{results.batch_eps:,.0f} ev/s",
        "",
    )
    table.add_row("    batch / ceiling", f"{results.ratio:.0%}", ">= 50%")
    table.add_row(
        "    CPU per event: bare producer / intake server",
        f"{results.ceiling_cpu_us:.0f} / {results.batch_cpu_us:.0f} µs",
        "",
    )
    table.add_row(
        f"(c) single events at {args.rate:g} rps: p50", f"{results.single_p50_ms:.1f} ms", ""
    )
    table.add_row("    p99", f"{results.single_p99_ms:.1f} ms", "<= 20 ms")
    table.add_row("    max", f"{results.single_max_ms:.1f} ms", "")
    table.add_row("    non-202 answers", str(results.single_errors), "0")
    console.print(table)
    print(json.dumps(results.as_json()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    results = asyncio.run(run(args))
    report(results, args)


if __name__ == "__main__":
    main()
