"""Finds or starts the real Kafka and PostgreSQL the integration tests use.

Order of preference: servers named in the environment (KAFKA_BOOTSTRAP,
DATABASE_URL); the project's local stack when it is already running; testcontainers
when a Docker engine answers; otherwise the local stack scripts start them (and the
session stops what it started).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "stack"


def run_script(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    merged = {**os.environ, **(env or {})}
    done = subprocess.run(
        [str(STACK / script), *args],
        env=merged,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"stack/{script} {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
    return done.stdout.strip()


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=3).ping()
    except Exception:  # any failure means "no engine here"
        return False
    return True


@dataclass
class Stack:
    kafka_bootstrap: str
    database_url: str
    _cleanups: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for cleanup in reversed(self._cleanups):
            cleanup()


def _local_running(script: str) -> bool:
    try:
        run_script(script, "status")
    except RuntimeError:
        return False
    return True


def resolve_stack() -> Stack:
    cleanups: list[Any] = []
    kafka = os.environ.get("KAFKA_BOOTSTRAP")
    database = os.environ.get("DATABASE_URL")
    containers_ok = (
        (kafka is None or database is None)
        and not _local_running("kafka.sh")
        and docker_available()
    )

    if kafka is None and containers_ok:
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().with_kraft()
        container.start()
        cleanups.append(container.stop)
        kafka = container.get_bootstrap_server()
    if kafka is None:
        if not _local_running("kafka.sh"):
            run_script("kafka.sh", "start")
            cleanups.append(lambda: run_script("kafka.sh", "stop"))
        kafka = run_script("kafka.sh", "bootstrap")

    if database is None and containers_ok:
        from testcontainers.postgres import PostgresContainer

        pg = PostgresContainer("postgres:16-alpine", driver=None)
        pg.start()
        cleanups.append(pg.stop)
        database = pg.get_connection_url()
    if database is None:
        if not _local_running("postgres.sh"):
            run_script("postgres.sh", "start")
            cleanups.append(lambda: run_script("postgres.sh", "stop"))
        database = run_script("postgres.sh", "url")

    return Stack(kafka_bootstrap=kafka, database_url=database, _cleanups=cleanups)


class PrivateBroker:
    """A Kafka broker of a test's own, which the test may stop and start again."""

    def __init__(self, name: str, *, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.instance = f"test-{name}"
        self._env = {
            "KAFKA_INSTANCE": self.instance,
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(free_port()),
            **(env or {}),
        }
        self.bootstrap = f"localhost:{self.port}"

    def _run(self, action: str) -> None:
        # Without KAFKA_BOOTSTRAP, or the script would defer to that broker.
        env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP"}
        done = subprocess.run(
            [str(STACK / "kafka.sh"), action],
            env={**env, **self._env},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"private broker {action} failed:\n{done.stderr}")

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")

    def kill(self) -> None:
        """kill -9 of the broker's JVM: no shutdown code runs."""
        pid = broker_pid(self.instance)
        if pid is not None:
            _kill9(pid)
            # A zombie still answers kill -0: stack/kafka.sh would take it for a running
            # broker and not start one. The pid file goes, as a crash leaves it stale.
            (ROOT / ".stack" / "run" / f"kafka-{self.instance}.pid").unlink(missing_ok=True)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(ROOT / ".stack" / "kafka" / self.instance, ignore_errors=True)


def _kill9(pid: int, *, timeout: float = 30.0) -> None:
    """kill -9, and wait until the process is dead: gone, or a zombie nobody reaps yet
    (a detached server's parent is init, which may be slow to reap or never do so)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while not _dead(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _dead(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def broker_pid(instance: str) -> int | None:
    """The running broker's pid, from the pid file stack/kafka.sh writes."""
    try:
        return int((ROOT / ".stack" / "run" / f"kafka-{instance}.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class PrivatePostgres:
    """A PostgreSQL cluster of a run's own (its own STACK_DIR and port), started and
    stopped with stack/postgres.sh, which the run may kill -9 and start again."""

    def __init__(self, name: str, *, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.stack_dir = ROOT / ".stack" / f"pg-{name}"
        self._env = {"STACK_DIR": str(self.stack_dir), "PG_PORT": str(self.port), **(env or {})}

    def _run(self, action: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        done = subprocess.run(
            [str(STACK / "postgres.sh"), action],
            env={**env, **self._env},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"private postgres {action} failed:\n{done.stderr}{done.stdout}")
        return done.stdout.strip()

    @property
    def url(self) -> str:
        return self._run("url")

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")

    def pid(self) -> int | None:
        """The postmaster's pid (the first line of postmaster.pid), if it has one."""
        data = (self.stack_dir / "postgres").resolve() / "data" / "postmaster.pid"
        try:
            return int(data.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        """kill -9 of the postmaster; its backends notice and exit on their own."""
        pid = self.pid()
        if pid is not None:
            _kill9(pid)

    def destroy(self) -> None:
        self.stop()
        home = (self.stack_dir / "postgres").resolve()  # relocated when root cannot share it
        shutil.rmtree(self.stack_dir, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
