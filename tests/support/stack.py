"""Finds or starts the real Kafka and PostgreSQL the integration tests use.

Order of preference: servers named in the environment (KAFKA_BOOTSTRAP with its
KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* / KAFKA_CA_FILE, DATABASE_URL); the project's
local stack when it is already running; testcontainers when a Docker engine answers;
otherwise the local stack scripts start them (and the session stops what it started).
The tests' own Kafka principal is `admin` (they create topics, ACLs and principals);
services under test get the connection the test hands them.
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
from urllib.parse import urlsplit

from shared.kafka_client import KafkaConnection
from shared.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "stack"


def run_script(
    script: str,
    *args: str,
    env: dict[str, str] | None = None,
    without: tuple[str, ...] = (),
    what: str | None = None,
) -> str:
    """stack/<script> <args> with this process's environment less the variables named in
    `without`, plus `env`; returns its output. A failure raises, naming `what` (default:
    the command) with the script's output."""
    merged = {k: v for k, v in os.environ.items() if k not in without} | (env or {})
    done = subprocess.run(
        [str(STACK / script), *args],
        env=merged,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        failed = what or f"stack/{script} {' '.join(args)}"
        raise RuntimeError(f"{failed} failed:\n{done.stderr}{done.stdout}")
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

    def __init__(self, name: str, *, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.instance = f"test-{name}"
        self._env = {
            "KAFKA_INSTANCE": self.instance,
            "KAFKA_BROKERS": "1",  # a single node, whatever mode the suite runs in
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(free_port()),
            **(env or {}),
        }
        self.bootstrap = f"localhost:{self.port}"

    @property
    def kafka(self) -> KafkaConnection:
        """Its admin connection (the secrets exist once it has started)."""
        return kafka_connection(self.client_env("admin"))

    def client_env(self, principal: str) -> dict[str, str]:
        """What a client of `principal` needs for this broker (stack/kafka.sh client-env)."""
        return local_client_env(principal, env=self._env | {"KAFKA_BOOTSTRAP": self.bootstrap})

    def _run(self, action: str) -> None:
        # Without KAFKA_BOOTSTRAP, or the script would defer to that broker.
        run_script(
            "kafka.sh",
            action,
            env=self._env,
            without=("KAFKA_BOOTSTRAP",),
            what=f"private broker {action}",
        )

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")

    def kill(self) -> None:
        """kill -9 of the broker's JVM: no shutdown code runs."""
        _kill_broker(self.instance)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(ROOT / ".stack" / "kafka" / self.instance, ignore_errors=True)


class PrivateCluster:
    """A KRaft cluster of a test's own (stack/kafka.sh with KAFKA_BROKERS): `brokers`
    combined broker+controller nodes on free ports, secured like the shared broker.
    Any node may be killed -9, stopped and started again (`node(n)`)."""

    def __init__(self, name: str, *, brokers: int = 3, env: dict[str, str] | None = None) -> None:
        ports = _free_ports(2 * brokers)
        self.ports, controller_ports = ports[:brokers], ports[brokers:]
        self.instance = f"test-{name}"
        self._env = {
            "KAFKA_INSTANCE": self.instance,
            "KAFKA_BROKERS": str(brokers),
            "KAFKA_PORTS": ",".join(map(str, self.ports)),
            "KAFKA_CONTROLLER_PORTS": ",".join(map(str, controller_ports)),
            **(env or {}),
        }
        self.bootstrap = ",".join(f"localhost:{port}" for port in self.ports)
        self.nodes = [ClusterNode(self, n) for n in range(1, brokers + 1)]

    @property
    def kafka(self) -> KafkaConnection:
        """The admin's connection, naming every node."""
        return kafka_connection(self.client_env("admin"))

    def client_env(self, principal: str) -> dict[str, str]:
        return local_client_env(principal, env=self._env | {"KAFKA_BOOTSTRAP": self.bootstrap})

    def node(self, node_id: int) -> ClusterNode:
        return self.nodes[node_id - 1]

    def run(self, action: str, *, node: int | None = None) -> None:
        where = "" if node is None else f" (node {node})"
        run_script(
            "kafka.sh",
            action,
            env=self._env | ({"KAFKA_NODE": str(node)} if node is not None else {}),
            without=("KAFKA_BOOTSTRAP", "KAFKA_NODE"),
            what=f"private cluster {action}{where}",
        )

    def start(self) -> None:
        """Starts every node that is not running."""
        self.run("start")

    def stop(self) -> None:
        self.run("stop")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(ROOT / ".stack" / "kafka" / self.instance, ignore_errors=True)


@dataclass(frozen=True)
class ClusterNode:
    cluster: PrivateCluster
    node_id: int

    @property
    def bootstrap(self) -> str:
        return f"localhost:{self.cluster.ports[self.node_id - 1]}"

    def start(self) -> None:
        self.cluster.run("start", node=self.node_id)

    def stop(self) -> None:
        self.cluster.run("stop", node=self.node_id)

    def kill(self) -> None:
        """kill -9 of the node's JVM: no shutdown code runs."""
        _kill_broker(f"{self.cluster.instance}-node{self.node_id}")


def _free_ports(count: int) -> list[int]:
    """`count` distinct free ports (each is free when looked at, as with free_port)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _kill_broker(name: str) -> None:
    pid = broker_pid(name)
    if pid is not None:
        _kill9(pid)
        # A zombie still answers kill -0: stack/kafka.sh would take it for a running
        # broker and not start one. The pid file goes, as a crash leaves it stale.
        (ROOT / ".stack" / "run" / f"kafka-{name}.pid").unlink(missing_ok=True)


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


def broker_pid(name: str) -> int | None:
    """The running broker's pid, from the pid file stack/kafka.sh writes (`name`: the
    instance of a single node, `<instance>-node<n>` for a cluster's node)."""
    try:
        return int((ROOT / ".stack" / "run" / f"kafka-{name}.pid").read_text().split()[0])
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
        return run_script(
            "postgres.sh",
            action,
            env=self._env,
            without=("DATABASE_URL",),
            what=f"private postgres {action}",
        )

    @property
    def url(self) -> str:
        """The writer's URL."""
        return self._run("url")

    def environment(self) -> dict[str, str]:
        """The three roles' URLs (DATABASE_URL, DATABASE_OWNER_URL, DATABASE_READ_URL)."""
        lines = self._run("env").splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

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
