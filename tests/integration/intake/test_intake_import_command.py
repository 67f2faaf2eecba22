"""`intake import FILE.jsonl` end to end: a real process publishing to the real broker."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from shared.events import Event, parse_recorded
from shared.kafka_client import KafkaConnection
from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from shared.topics import TopicNames
from tests.support.events import (
    commendation_recorded,
    complaint_filed,
    complaint_resolved,
    inspection_recorded,
    to_json,
    to_wire,
)
from tests.support.topics import read_topic

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Run:
    code: int
    output: str


@pytest.fixture
async def prefix(kafka: KafkaConnection, unique: str) -> AsyncIterator[str]:
    prefix = f"it-{unique}."
    await ensure_topics(
        kafka=kafka,
        specs=platform_topics(TopicNames.with_prefix(prefix)),
        partitions=3,
    )
    yield prefix
    await delete_topics(kafka=kafka, prefix=prefix)


async def intake_import(kafka: KafkaConnection, prefix: str, *args: str) -> Run:
    env = {**os.environ, **kafka.environment(), "KAFKA_TOPIC_PREFIX": prefix}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.intake.entrypoints.cli",
        "import",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Run(code=process.returncode, output=output.decode())


def jsonl(path: Path, *lines: bytes) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def sample() -> list[Event]:
    return [complaint_filed(), complaint_resolved(), inspection_recorded(), commendation_recorded()]


async def published_ids(kafka: KafkaConnection, prefix: str) -> list[str]:
    records = await read_topic(kafka, TopicNames.with_prefix(prefix).events)
    return sorted(parse_recorded(r.body).id for r in records)


async def test_a_valid_file_is_published(
    kafka: KafkaConnection, prefix: str, tmp_path: Path
) -> None:
    events = sample()
    file = jsonl(
        tmp_path / "ok.jsonl",
        *(to_wire(e) for e in events[:2]),
        b"",
        *(to_wire(e) for e in events[2:]),
    )

    run = await intake_import(kafka, prefix, str(file), "--batch-size", "3")

    assert run.code == 0, run.output
    assert "published 4 event(s)" in run.output
    assert await published_ids(kafka, prefix) == sorted(e.id for e in events)


async def test_one_bad_line_publishes_nothing_and_is_reported(
    kafka: KafkaConnection, prefix: str, tmp_path: Path
) -> None:
    bad = {**to_json(complaint_filed()), "unit_id": "bad unit"}
    file = jsonl(tmp_path / "bad.jsonl", *(to_wire(e) for e in sample()), orjson.dumps(bad))

    run = await intake_import(kafka, prefix, str(file))

    assert run.code == 1, run.output
    assert "line 5: unit_id: String should match pattern" in run.output
    assert await published_ids(kafka, prefix) == []


async def test_skip_invalid_publishes_the_valid_lines(
    kafka: KafkaConnection, prefix: str, tmp_path: Path
) -> None:
    events = sample()
    file = jsonl(
        tmp_path / "mixed.jsonl", to_wire(events[0]), b"{oops", *(to_wire(e) for e in events[1:])
    )

    run = await intake_import(kafka, prefix, str(file), "--skip-invalid")

    assert run.code == 0, run.output
    assert "line 2: (event): not valid JSON (UTF-8)" in run.output
    assert "skipped 1 invalid line(s)" in run.output
    assert await published_ids(kafka, prefix) == sorted(e.id for e in events)
