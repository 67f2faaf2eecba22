"""The change feed for other teams (assessment.changes.v1): `assessment changes tail`
follows it; `assessment schemas` and `assessment asyncapi` write its documents."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer

from services.assessment.entrypoints.cli.common import console, exits_on, settings_of
from shared.settings import KafkaSettings

changes_app = typer.Typer(help="The change feed for other teams (assessment.changes.v1).")
OutDir = Annotated[Path, typer.Option("--out", help="Directory to write to.")]


def schemas(out: OutDir) -> None:
    """Write the JSON Schema of the change feed's payloads (a warning, an alert)."""
    from services.assessment.entrypoints.feed_docs import write_feed_schemas

    for path in write_feed_schemas(out):
        typer.echo(str(path))


def asyncapi(out: OutDir) -> None:
    """Write the AsyncAPI document of the change feed (assessment.asyncapi.json, .yaml)."""
    from services.assessment.entrypoints.feed_docs import asyncapi_document, dump_json
    from shared.asyncapi_files import write_asyncapi

    document = asyncapi_document()
    paths = write_asyncapi(document, out, stem="assessment.asyncapi", dump_json=dump_json)
    typer.echo("\n".join(map(str, paths)))


@changes_app.command("tail")
def tail_changes(
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Start at the feed's first record.")
    ] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many records.")] = None,
) -> None:
    """Print the change feed live, one JSON line per record: position, key, the
    CloudEvents attributes and the warning or alert (Ctrl-C ends it)."""
    settings = settings_of(KafkaSettings)
    with contextlib.suppress(KeyboardInterrupt), exits_on(RuntimeError, code=1):
        asyncio.run(_tail(settings, from_beginning=from_beginning, limit=limit))


async def _tail(settings: KafkaSettings, *, from_beginning: bool, limit: int | None) -> None:
    # aiokafka is imported here: every other command starts without it.
    from services.assessment.adapters.kafka_log import FeedTail

    tail = FeedTail(kafka=settings.kafka, topic=settings.topics.assessment_changes)
    printed = 0
    start = "the beginning" if from_beginning else "now"
    ready = lambda: console.print(f"following {tail.topic} from {start}")  # noqa: E731
    async for record in tail.records(from_beginning=from_beginning, on_ready=ready):
        line = {
            "partition": record.partition,
            "offset": record.offset,
            "key": record.key.decode("utf-8", errors="replace") if record.key else None,
            **{name: value.decode("utf-8", errors="replace") for name, value in record.headers},
            "data": json.loads(record.value) if record.value else None,
        }
        typer.echo(json.dumps(line, ensure_ascii=False))
        printed += 1
        if limit is not None and printed >= limit:
            return
