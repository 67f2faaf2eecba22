"""The parts a chaos run starts, kills -9 and restarts: brokers, PostgreSQL, services.

Kafka and PostgreSQL are private instances started and restarted with the stack
scripts; the services are real processes on free ports. Every process carries the
run's tag (RUN_TAG) so that the run can prove nothing it started still runs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from shared.kafka_client import KafkaConnection
from shared.kafka_topics import ensure_topics, platform_topics
from shared.tokens import token_digest
from shared.topics import TopicNames
from tests.support.processes import (
    RUN_TAG,
    ServiceProcess,
    assessment_process,
    intake_process,
)
from tests.support.stack import PrivateBroker, PrivatePostgres, free_port

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
READ_TOKEN = "chaos-read-token"
INTAKE_TOKEN = "chaos-intake-token"
PARTITIONS = 3


class Brokers:
    """The Kafka of a run. Single-node today; a cluster mode (KAFKA_BROKERS=3, issue 10
    item 3) plugs in here: `bootstrap` names every node, `victim` picks one of them."""

    def __init__(self, tag: str, *, count: int) -> None:
        if count != 1:
            raise SystemExit(
                "--brokers > 1 needs the cluster mode of stack/kafka.sh (issue 10 item 3), "
                "which is not merged yet; run with --brokers 1"
            )
        self.nodes = [PrivateBroker(f"chaos-{tag}", env={RUN_TAG: tag})]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def kafka(self) -> KafkaConnection:
        """The admin's connection (topics, reading the log back)."""
        return self.nodes[0].kafka.with_bootstrap(self.bootstrap)

    def client_env(self, principal: str) -> dict[str, str]:
        """What a client of `principal` needs, naming every node."""
        return self.nodes[0].client_env(principal) | {"KAFKA_BOOTSTRAP": self.bootstrap}

    def start(self) -> None:
        for node in self.nodes:
            node.start()

    def victim(self, index: int) -> PrivateBroker:
        return self.nodes[index % len(self.nodes)]

    def destroy(self) -> None:
        for node in self.nodes:
            node.destroy()


@dataclass
class System:
    """Everything one chaos run starts, on ports and folders of its own."""

    tag: str
    logs: Path
    brokers: Brokers
    postgres: PrivatePostgres
    topics: TopicNames = field(default_factory=lambda: TopicNames.with_prefix(""))
    intake: ServiceProcess | None = None
    assessment: ServiceProcess | None = None
    replays: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def create(cls, tag: str, *, logs: Path, brokers: int) -> System:
        logs.mkdir(parents=True, exist_ok=True)
        return cls(
            tag=tag,
            logs=logs,
            brokers=Brokers(tag, count=brokers),
            postgres=PrivatePostgres(f"chaos-{tag}", env={RUN_TAG: tag}),
        )

    def env(self, principal: str) -> dict[str, str]:
        """A service's environment: its own Kafka principal (the broker's ACLs apply, as
        in production) and the database roles."""
        return {
            RUN_TAG: self.tag,
            **self.brokers.client_env(principal),
            **self.postgres.environment(),
            "TOPIC_PARTITIONS": str(PARTITIONS),
            "READ_TOKENS": token_digest(READ_TOKEN),
            "LOG_LEVEL": "INFO",
        }

    async def start(self) -> None:
        await asyncio.to_thread(self.brokers.start)
        await asyncio.to_thread(self.postgres.start)
        await ensure_topics(
            kafka=self.brokers.kafka,
            specs=platform_topics(self.topics),
            partitions=PARTITIONS,
        )
        self.assessment = assessment_process(
            env=self.env("assessment"), port=free_port(), log=self.logs / "assessment.log"
        )
        self.intake = intake_process(
            env=self.env("intake"),
            port=free_port(),
            log=self.logs / "intake.log",
            tokens=f"{token_digest(INTAKE_TOKEN)}=*",
        )
        self.assessment.start()
        self.intake.start()
        await asyncio.to_thread(self.assessment.wait_ready, 180)
        await asyncio.to_thread(self.intake.wait_ready, 180)

    def start_replay(self) -> subprocess.Popen[bytes]:
        """`assessment replay` as a process of its own (a rebuild to kill mid-way)."""
        log = (self.logs / "replay.log").open("ab")
        process = subprocess.Popen(
            [str(BIN / "assessment"), "replay"],
            env={**os.environ, **self.env("assessment")},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        self.replays.append(process)
        return process

    @property
    def intake_url(self) -> str:
        assert self.intake is not None
        return f"http://127.0.0.1:{self.intake.port}"

    @property
    def assessment_url(self) -> str:
        assert self.assessment is not None
        return f"http://127.0.0.1:{self.assessment.port}"

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.postgres.environment()["DATABASE_OWNER_URL"])

    def stop(self) -> None:
        """Stop everything, whatever state the run left it in."""
        for replay in self.replays:
            if replay.poll() is None:
                replay.kill()
                replay.wait(timeout=30)
        for service in (self.intake, self.assessment):
            if service is not None:
                service.stop()
        for cleanup in (self.brokers.destroy, self.postgres.destroy):
            try:
                cleanup()
            except RuntimeError as error:  # keep stopping the rest; report it
                print(f"clean-up: {error}", file=sys.stderr)


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def wait_gone(process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
