"""Runs a service as a real OS process (to kill -9 it, or run two of them)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from shared.kafka_client import KafkaConnection
from shared.tokens import token_digest
from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class ServiceProcess:
    def __init__(self, command: list[str], *, env: dict[str, str], port: int, log: Path) -> None:
        self.command = command
        self.env = {**os.environ, **env}
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT
        )
        return self

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/readyz", timeout=1
            ) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def wait_ready(self, timeout: float = 60) -> ServiceProcess:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.command} exited: {self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.command} not ready: {self.log.read_text()[-3000:]}")
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def assessment_process(
    *, env: dict[str, str], port: int, log: Path, consumer: bool = True
) -> ServiceProcess:
    return ServiceProcess(
        [str(BIN / "assessment"), "run"],
        env={
            **env,
            "ASSESSMENT_PORT": str(port),
            "ASSESSMENT_CONSUMER": "true" if consumer else "false",
        },
        port=port,
        log=log,
    )


RUN_TAG = "SERVICE_NORM_TEST_RUN"  # inherited by every process a tagged run starts


def tagged_processes(tag: str) -> list[str]:
    """The command lines of running processes whose environment carries RUN_TAG=tag:
    whatever a run started, however it detached (setsid, runuser, spawned workers)."""
    wanted = f"{RUN_TAG}={tag}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if wanted in environ and cmdline:  # a zombie has no command line: it is gone
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry.name}: {command}")
    return found


def intake_process(
    *, env: dict[str, str], port: int, log: Path, tokens: str, extra: dict[str, str] | None = None
) -> ServiceProcess:
    """`intake serve` with INTAKE_TOKENS = `tokens` (digests, see shared.tokens)."""
    return ServiceProcess(
        [str(BIN / "intake"), "serve"],
        env={**env, "INTAKE_PORT": str(port), "INTAKE_TOKENS": tokens, **(extra or {})},
        port=port,
        log=log,
    )


def lone_intake(
    kafka: KafkaConnection, *, prefix: str, raw_group: str, token: str, log: Path
) -> ServiceProcess:
    """`intake serve` on a free port and topics of its own (`prefix`, one partition),
    taking `token` for any source (not started)."""
    return intake_process(
        env={
            **kafka.environment(),
            "KAFKA_TOPIC_PREFIX": prefix,
            "TOPIC_PARTITIONS": "1",
            "INTAKE_RAW_GROUP": raw_group,
        },
        port=free_port(),
        tokens=f"{token_digest(token)}=*",
        log=log,
    )
