"""The stack scripts clean up after themselves: `stack/with-infra.sh` (behind `make test`,
`make bench`, `make chaos`) stops the servers it started, and nothing a run started
still runs afterwards; PostgreSQL starts wherever a newcomer clones, even under a
folder the `postgres` user cannot enter."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.support.processes import RUN_TAG, tagged_processes
from tests.support.stack import ROOT, free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

KAFKA_LIBS = ROOT / ".stack" / "kafka"


@pytest.fixture
def private_folder() -> Iterator[Path]:
    """A `mktemp -d` folder (mode 700): only its owner may enter it."""
    folder = Path(tempfile.mkdtemp(prefix="newcomer-"))
    try:
        yield folder
    finally:
        cluster = folder / "clone" / ".stack" / "postgres"
        if cluster.is_symlink():  # relocated for the postgres user: remove it too
            shutil.rmtree(cluster.resolve(), ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def run_env(tag: str, **extra: str) -> dict[str, str]:
    """The caller's environment without any external servers or their credentials
    (KAFKA_SASL_*, DATABASE_*_URL), tagged."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "DATABASE_"))}
    return {**env, RUN_TAG: tag, **extra}


async def nothing_left(tag: str) -> list[str]:
    return tagged_processes(tag)


def test_postgres_starts_in_a_clone_under_a_folder_postgres_cannot_enter(
    private_folder: Path,
) -> None:
    assert stat.S_IMODE(private_folder.stat().st_mode) == 0o700
    clone = private_folder / "clone"
    clone.mkdir()
    shutil.copytree(ROOT / "stack", clone / "stack")
    tag = uuid.uuid4().hex
    env = run_env(tag, PG_PORT=str(free_port()))
    script = str(clone / "stack" / "postgres.sh")

    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True)
    try:
        assert started.returncode == 0, started.stderr
        assert "could not change directory" not in started.stderr
        url = subprocess.run(
            [script, "url"], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run([script, "status"], env=env, capture_output=True, text=True)
        assert status.returncode == 0, status.stdout + status.stderr

        async def query() -> int:
            conn = await asyncpg.connect(url)
            try:
                answer: int = await conn.fetchval("SELECT 41 + 1")
                return answer
            finally:
                await conn.close()

        assert asyncio.run(query()) == 42
    finally:
        stopped = subprocess.run([script, "stop"], env=env, capture_output=True, text=True)
    assert stopped.returncode == 0, stopped.stderr
    assert asyncio.run(wait_for(lambda: nothing_left(tag), until=lambda left: not left)) == []


def test_with_infra_stops_what_it_started_and_nothing_of_the_run_remains(
    private_folder: Path,
) -> None:
    """`make bench` on a private stack: Kafka, PostgreSQL, a replay with its decode
    workers and both services run, and none of them is left once it returns."""
    stack_dir = private_folder / "clone" / ".stack"
    (stack_dir / "kafka").mkdir(parents=True)
    for libs in KAFKA_LIBS.glob("libs-*"):
        (stack_dir / "kafka" / libs.name).symlink_to(libs)
    tag = uuid.uuid4().hex
    env = run_env(
        tag,
        STACK_DIR=str(stack_dir),
        KAFKA_PORT=str(free_port()),
        KAFKA_CONTROLLER_PORT=str(free_port()),
        PG_PORT=str(free_port()),
        BENCH_LOGS=str(private_folder),
        KAFKA_HEAP="-Xms128m -Xmx256m",
    )
    python = str(ROOT / ".venv" / "bin" / "python")
    bench = [
        python,
        "-m",
        "bench.rebuild_bench",
        "--events",
        "300",
        "--batch",
        "100",
        "--no-history",
    ]
    done = subprocess.run(
        [str(ROOT / "stack" / "with-infra.sh"), *bench, "--rates", "20", "--seconds", "2"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "rebuild_eps" in done.stdout, "the bench ran to its end"
    left = asyncio.run(wait_for(lambda: nothing_left(tag), until=lambda left: not left))
    assert left == []
