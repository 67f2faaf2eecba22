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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

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
from tests.support.stack import PrivateBroker, PrivateCluster, PrivatePostgres, free_port
from tests.support.topics import partition_states

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
READ_TOKEN = "chaos-read-token"
INTAKE_TOKEN = "chaos-intake-token"
PARTITIONS = 3


class Broker(Protocol):
    """One node a run kills -9 and starts again."""

    def kill(self) -> None: ...
    def start(self) -> None: ...


class Brokers:
    """The Kafka of a run: one node (stack/kafka.sh), or with `count` > 1 a KRaft cluster
    of that many nodes (KAFKA_BROKERS), whose topics have three copies."""

    def __init__(self, tag: str, *, count: int) -> None:
        self.count = count
        self.part: PrivateCluster | PrivateBroker = (
            PrivateCluster(f"chaos-{tag}", brokers=count, env={RUN_TAG: tag})
            if count > 1
            else PrivateBroker(f"chaos-{tag}", env={RUN_TAG: tag})
        )
        self._kills = 0

    @property
    def bootstrap(self) -> str:
        return self.part.bootstrap

    @property
    def kafka(self) -> KafkaConnection:
        """The admin's connection, naming every node (topics, reading the log back)."""
        return self.part.kafka

    def client_env(self, principal: str) -> dict[str, str]:
        """What a client of `principal` needs, naming every node."""
        return self.part.client_env(principal)

    def start(self) -> None:
        self.part.start()

    async def victim(self, topic: str) -> tuple[Broker, str]:
        """The node to kill next, and which it is: in a cluster, the one that leads the
        most partitions of `topic` (a node that leads none is only a follower: losing it
        tests little), ties broken by turns."""
        self._kills += 1
        if not isinstance(self.part, PrivateCluster):
            return self.part, ""
        leaders = Counter(p.leader for p in await partition_states(self.kafka, [topic]))
        turn = self._kills % self.count
        node = min(
            range(1, self.count + 1), key=lambda n: (-leaders[n], (n - 1 - turn) % self.count)
        )
        return self.part.node(node), f"node {node}, leader of {leaders[node]} partition(s)"

    async def under_replicated(self) -> int:
        """Partitions (of every topic) with fewer in-sync replicas than replicas."""
        if not isinstance(self.part, PrivateCluster):
            return 0
        return sum(p.under_replicated for p in await partition_states(self.kafka))

    def destroy(self) -> None:
        self.part.destroy()


@dataclass
class System:
    """Everything one chaos run starts, on ports and folders of its own."""

    tag: str
    logs: Path
    brokers: Brokers
    postgres: PrivatePostgres
    topics: TopicNames = field(default_factory=lambda: TopicNames.with_prefix(""))
    instances: int = 1  # assessment instances, one consumer group
    intake: ServiceProcess | None = None
    assessments: list[ServiceProcess] = field(default_factory=list)
    replays: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def create(cls, tag: str, *, logs: Path, brokers: int, instances: int = 1) -> System:
        logs.mkdir(parents=True, exist_ok=True)
        return cls(
            tag=tag,
            logs=logs,
            brokers=Brokers(tag, count=brokers),
            postgres=PrivatePostgres(f"chaos-{tag}", env={RUN_TAG: tag}),
            instances=instances,
        )

    @property
    def assessment(self) -> ServiceProcess | None:
        """The first instance: the one whose query API the run reads."""
        return self.assessments[0] if self.assessments else None

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
        self.assessments = [
            assessment_process(
                env=self.env("assessment"),
                port=free_port(),
                log=self.logs / ("assessment.log" if n == 1 else f"assessment-{n}.log"),
            )
            for n in range(1, self.instances + 1)
        ]
        self.intake = intake_process(
            env=self.env("intake"),
            port=free_port(),
            log=self.logs / "intake.log",
            tokens=f"{token_digest(INTAKE_TOKEN)}=*",
        )
        for assessment in self.assessments:
            assessment.start()
        self.intake.start()
        for assessment in self.assessments:
            await asyncio.to_thread(assessment.wait_ready, 180)
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
        for service in (self.intake, *self.assessments):
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
