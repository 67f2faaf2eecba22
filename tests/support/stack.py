"""Finds or starts the real Kafka and PostgreSQL the integration tests use.

Order of preference: servers named in the environment (KAFKA_BOOTSTRAP with its
KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* / KAFKA_CA_FILE, DATABASE_URL); the project's
local stack when it is already running; testcontainers when a Docker engine answers;
otherwise the local stack scripts start them (and the session stops what it started).
The tests' own Kafka principal is `admin` (they create topics, ACLs and principals);
services under test get the connection the test hands them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shared.kafka_client import KafkaConnection
from shared.settings import KafkaSettings

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


def kafka_connection(env: dict[str, str]) -> KafkaConnection:
    """The connection described by KafkaSettings variables (as `kafka.sh client-env`
    prints them, or as the environment holds them)."""
    fields = {
        name.lower(): value
        for name, value in env.items()
        if name.startswith("KAFKA_") and name.lower() in KafkaSettings.model_fields and value
    }
    return KafkaSettings(**fields).kafka  # type: ignore[arg-type]


def local_client_env(principal: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """What a client of `principal` needs for the local broker (stack/kafka.sh)."""
    lines = run_script("kafka.sh", "client-env", principal, env=env).splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _environment_kafka(bootstrap: str) -> KafkaConnection:
    env = {name: value for name, value in os.environ.items() if name.startswith("KAFKA_")}
    if "KAFKA_SASL_USERNAME" not in env and env.get("KAFKA_SECURITY_PROTOCOL") != "PLAINTEXT":
        # A broker of this clone's stack scripts: they share the secrets.
        env |= local_client_env("admin") | {"KAFKA_BOOTSTRAP": bootstrap}
    return kafka_connection(env)


@dataclass(frozen=True)
class Databases:
    """The three roles' URLs (stack/postgres.sh): the owner (migrations; the tests'
    own role, it may create databases), the writer (the consumer), the reader (the
    query API)."""

    owner: str
    writer: str
    reader: str

    def on(self, database: str) -> Databases:
        """The same roles on another database of the server."""

        def moved(url: str) -> str:
            base, _, _ = url.rpartition("/")
            return f"{base}/{database}"

        return Databases(moved(self.owner), moved(self.writer), moved(self.reader))

    def environment(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.writer,
            "DATABASE_OWNER_URL": self.owner,
            "DATABASE_READ_URL": self.reader,
        }


def _local_databases(env: dict[str, str] | None = None) -> Databases:
    lines = run_script("postgres.sh", "env", env=env).splitlines()
    urls = dict(line.split("=", 1) for line in lines if "=" in line)
    return Databases(
        owner=urls["DATABASE_OWNER_URL"],
        writer=urls["DATABASE_URL"],
        reader=urls["DATABASE_READ_URL"],
    )


def _environment_databases(writer: str) -> Databases:
    owner = os.environ.get("DATABASE_OWNER_URL")
    reader = os.environ.get("DATABASE_READ_URL")
    if owner is None and reader is None:
        port = urlsplit(writer).port
        try:  # a server of this clone's stack scripts: they know its roles
            # An empty DATABASE_URL, or the script would only echo it back.
            return _local_databases({"DATABASE_URL": "", "PG_PORT": str(port)})
        except (RuntimeError, KeyError):
            pass
    return Databases(owner=owner or writer, writer=writer, reader=reader or writer)


@dataclass
class Stack:
    kafka: KafkaConnection
    databases: Databases
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
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP")
    kafka = _environment_kafka(bootstrap) if bootstrap else None
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
        kafka = KafkaConnection(bootstrap=container.get_bootstrap_server())
    if kafka is None:
        if not _local_running("kafka.sh"):
            run_script("kafka.sh", "start")
            cleanups.append(lambda: run_script("kafka.sh", "stop"))
        kafka = kafka_connection(local_client_env("admin"))

    databases = _environment_databases(database) if database else None
    if databases is None and containers_ok:
        from testcontainers.postgres import PostgresContainer

        pg = PostgresContainer("postgres:16-alpine", driver=None)
        pg.start()
        cleanups.append(pg.stop)
        url = pg.get_connection_url()
        databases = Databases(owner=url, writer=url, reader=url)
    if databases is None:
        if not _local_running("postgres.sh"):
            run_script("postgres.sh", "start")
            cleanups.append(lambda: run_script("postgres.sh", "stop"))
        databases = _local_databases()

    return Stack(kafka=kafka, databases=databases, _cleanups=cleanups)


class PrivateBroker:
    """A Kafka broker of a test's own, which the test may stop and start again; secured
    like the shared one (same secrets; `kafka` is its admin connection)."""

    def __init__(self, name: str) -> None:
        self.port = free_port()
        self.instance = f"test-{name}"
        self._env = {
            "KAFKA_INSTANCE": self.instance,
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(free_port()),
        }
        self.bootstrap = f"localhost:{self.port}"

    @property
    def kafka(self) -> KafkaConnection:
        """Its admin connection (the secrets exist once it has started)."""
        env = self._env | {"KAFKA_BOOTSTRAP": self.bootstrap}
        return kafka_connection(local_client_env("admin", env=env))

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

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(ROOT / ".stack" / "kafka" / self.instance, ignore_errors=True)
