"""`intake import FILE.jsonl`: the HTTP path's validation, for a file, then Kafka.

Two passes over the file, so that memory stays flat for large files: the first
validates every line and reports each problem as `line N: field.path: reason`; the
second publishes (only when the first found nothing wrong, or with --skip-invalid).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiokafka.errors import KafkaError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.intake.adapters.kafka_publisher import KafkaPublisher, record_size
from services.intake.domain.records import event_record
from services.intake.domain.validation import BodyError, InvalidEventsError, validate_one
from services.intake.metrics import IntakeMetrics
from services.intake.service_layer.handlers import record_events
from services.intake.service_layer.ports import PublishError
from shared.events import Event
from shared.kafka_topics import ensure_topics, intake_topics
from shared.producer import MAX_REQUEST_BYTES
from shared.settings import KafkaSettings

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_KAFKA = 2
PUBLISH_TIMEOUT_S = 30.0


class FileChangedError(Exception):
    """A line valid in the first pass is not in the second: the file changed."""


@dataclass
class Checked:
    valid: int = 0
    problems: list[str] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)


def lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, content) of every non-blank line."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            content = line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line
            content = content.strip()
            if content:
                yield number, content


def check_line(content: bytes, *, received_at: datetime, topic: str) -> Event | list[str]:
    """The event, or `field.path: reason` for each problem."""
    try:
        event = validate_one(content, received_at=received_at)
    except BodyError as error:
        return [f"(event): {error.detail}"]
    except InvalidEventsError as invalid:
        return [f"{e.path}: {e.msg}" for e in invalid.errors]
    size = record_size(event_record(event, topic=topic, recorded_at=received_at))
    if size > MAX_REQUEST_BYTES:
        return [f"(event): {size} bytes as a Kafka record; at most {MAX_REQUEST_BYTES}"]
    return event


def check_file(path: Path, *, received_at: datetime, topic: str, progress: Progress) -> Checked:
    checked = Checked()
    task = progress.add_task("validating", total=path.stat().st_size or None)
    for number, content in lines(path):
        outcome = check_line(content, received_at=received_at, topic=topic)
        if isinstance(outcome, list):
            checked.bad_lines.add(number)
            checked.problems.extend(f"line {number}: {problem}" for problem in outcome)
        else:
            checked.valid += 1
        progress.advance(task, len(content) + 1)
    progress.update(task, completed=path.stat().st_size)
    return checked


async def import_file(
    path: Path,
    *,
    settings: KafkaSettings,
    skip_invalid: bool,
    batch_size: int,
    console: Console | None = None,
) -> int:
    console = console or Console(stderr=True)
    received_at = datetime.now(UTC)
    topics = settings.topics
    with _progress(console) as progress:
        checked = check_file(path, received_at=received_at, topic=topics.events, progress=progress)
    for problem in checked.problems:
        console.print(problem, markup=False, highlight=False, soft_wrap=True)
    if checked.problems and not skip_invalid:
        console.print(
            f"{len(checked.bad_lines)} invalid line(s); nothing published "
            "(fix them, or use --skip-invalid)."
        )
        return EXIT_INVALID
    if checked.valid == 0:
        console.print("no valid events to publish.")
        return EXIT_OK
    return await _publish_file(
        path,
        settings=settings,
        checked=checked,
        received_at=received_at,
        batch_size=batch_size,
        console=console,
    )


async def _publish_file(
    path: Path,
    *,
    settings: KafkaSettings,
    checked: Checked,
    received_at: datetime,
    batch_size: int,
    console: Console,
) -> int:
    topics = settings.topics
    publisher = KafkaPublisher(
        kafka=settings.kafka, timeout_s=PUBLISH_TIMEOUT_S, client_id="intake-import"
    )
    try:
        await ensure_topics(
            kafka=settings.kafka,
            specs=intake_topics(topics),
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
        )
        await publisher.start()
    except (KafkaError, OSError) as error:
        console.print(f"Kafka at {settings.kafka_bootstrap} is unavailable: {error!r}")
        return EXIT_KAFKA
    published = 0
    metrics = IntakeMetrics()
    try:
        with _progress(console) as progress:
            task = progress.add_task("publishing", total=checked.valid)
            for batch in _batches(path, checked, received_at=received_at, size=batch_size):
                await record_events(
                    batch,
                    publisher=publisher,
                    topics=topics,
                    recorded_at=datetime.now(UTC),
                    metrics=metrics,
                    channel="import",
                )
                published += len(batch)
                progress.advance(task, len(batch))
    except PublishError as error:
        console.print(
            f"Kafka stopped taking events after {published} of {checked.valid}: {error}. "
            "Re-running the import is harmless."
        )
        return EXIT_KAFKA
    except FileChangedError as error:
        console.print(f"{error}; published {published} event(s) before it. Re-run the import.")
        return EXIT_INVALID
    finally:
        await publisher.stop()
    skipped = f", skipped {len(checked.bad_lines)} invalid line(s)" if checked.bad_lines else ""
    console.print(f"published {published} event(s) to {topics.events}{skipped}.")
    return EXIT_OK


def _batches(
    path: Path, checked: Checked, *, received_at: datetime, size: int
) -> Iterator[list[Event]]:
    batch: list[Event] = []
    for number, content in lines(path):
        if number in checked.bad_lines:
            continue
        try:
            event = validate_one(content, received_at=received_at)
        except (BodyError, InvalidEventsError):
            raise FileChangedError(f"line {number} changed while importing") from None
        batch.append(event)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
