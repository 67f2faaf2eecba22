"""`intake deadletters list` reads intake.deadletter.v1 from the real broker: position,
origin, reason and errors of each parked record, never its data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared import topics
from shared.kafka_client import KafkaConnection
from shared.kafka_topics import delete_topics, ensure_topics, platform_topics
from shared.topics import TopicNames
from tests.support.kafka import publish_raw

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


async def test_lists_each_dead_letter_with_its_reason_and_without_its_data(
    kafka: KafkaConnection, unique: str
) -> None:
    prefix = f"t{unique}."
    names = TopicNames.with_prefix(prefix)
    await ensure_topics(kafka=kafka, specs=platform_topics(names), partitions=2)
    try:
        for reason, value in (("unparseable", b"\xff secret-1"), ("invalid", b'{"secret": 2}')):
            await publish_raw(
                kafka,
                names.intake_deadletter,
                value,
                headers=[
                    (topics.HEADER_DLQ_REASON, reason.encode()),
                    (topics.HEADER_DLQ_ERRORS, b'[{"msg": "why"}]'),
                    (topics.HEADER_DLQ_ORIGIN, f"{names.intake_raw}/0/7".encode()),
                ],
            )

        def run(*args: str) -> str:
            done = subprocess.run(
                [str(BIN / "intake"), "deadletters", "list", *args],
                env={
                    **os.environ,
                    **kafka.environment(),
                    "KAFKA_TOPIC_PREFIX": prefix,
                    "COLUMNS": "250",
                },
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        everything, invalid = run(), run("--reason", "invalid")
    finally:
        await delete_topics(kafka=kafka, prefix=prefix)

    assert "2 dead letter(s)" in everything
    assert "unparseable" in everything
    assert f"{names.intake_raw}/0/7" in everything
    assert "secret" not in everything
    assert "1 dead letter(s)" in invalid
    assert "unparseable" not in invalid
