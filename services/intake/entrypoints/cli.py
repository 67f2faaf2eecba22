"""`intake` command line: serve, import, schemas, asyncapi, tokens."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from pydantic_settings import BaseSettings

from services.intake.settings import IntakeSettings
from shared.runtime import tune_garbage_collector
from shared.settings import KafkaSettings, SettingsError, load_settings

S = TypeVar("S", bound=BaseSettings)

app = typer.Typer(
    name="intake",
    help="Intake service: accepts events over HTTP and Kafka and writes them to events.v1.",
    no_args_is_help=True,
    add_completion=False,
)

tokens_app = typer.Typer(help="Bearer tokens for POST /v1/events.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")

OutDir = Annotated[
    Path, typer.Option("--out", help="Directory to write into (created if missing).")
]


def _settings(cls: type[S]) -> S:
    """The settings, or the list of bad variables on stderr and exit status 2."""
    try:
        return load_settings(cls)
    except SettingsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


deadletters_app = typer.Typer(help="Records intake refused on intake.raw.v1 (dead letters).")
app.add_typer(deadletters_app, name="deadletters")


@deadletters_app.command("list")
def list_deadletters(
    reason: Annotated[str | None, typer.Option("--reason", help="Only this reason.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1_000_000)] = 1000,
) -> None:
    """What intake.deadletter.v1 holds and why: origin, reason, errors (never the
    records' data: it may hold complainant data)."""
    from rich.console import Console
    from rich.table import Table

    from shared import topics
    from shared.kafka_topics import read_to_end

    settings = _settings(KafkaSettings)
    records = asyncio.run(
        read_to_end(kafka=settings.kafka, topic=settings.topics.intake_deadletter, limit=limit)
    )
    table = Table(title=f"{settings.topics.intake_deadletter}")
    for column in ("position", "origin", "reason", "errors", "bytes"):
        table.add_column(column, overflow="fold")
    shown = 0
    for record in records:
        found = record.headers.get(topics.HEADER_DLQ_REASON, b"").decode(errors="replace")
        if reason is not None and found != reason:
            continue
        shown += 1
        table.add_row(
            f"{record.partition}/{record.offset}",
            record.headers.get(topics.HEADER_DLQ_ORIGIN, b"").decode(errors="replace"),
            found,
            record.headers.get(topics.HEADER_DLQ_ERRORS, b"").decode(errors="replace")[:300],
            str(len(record.value or b"")),
        )
    Console().print(table)
    typer.echo(f"{shown} dead letter(s)")


@app.command()
def serve() -> None:
    """Run the HTTP API and the intake.raw.v1 subscriber (settings from the environment)."""
    from services.intake.bootstrap import build_service

    settings = _settings(IntakeSettings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    service = build_service(settings)
    tune_garbage_collector()
    uvicorn.run(
        service.app,
        host=settings.intake_host,
        port=settings.intake_port,
        log_level="info",
        timeout_graceful_shutdown=30,
    )


@app.command("import")
def import_events(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="A JSON Lines file."),
    ],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Publish the valid lines, report the rest.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=10_000, help="Events per publish.")
    ] = 500,
) -> None:
    """Validate every line of FILE, then publish the events straight to Kafka.

    Nothing is published if any line is invalid, unless --skip-invalid. Re-running
    is harmless: (source, id) is the idempotency key. Exit status: 0 done,
    1 invalid lines, 2 Kafka unavailable.
    """
    from .importer import import_file

    settings = _settings(KafkaSettings)
    code = asyncio.run(
        import_file(file, settings=settings, skip_invalid=skip_invalid, batch_size=batch_size)
    )
    raise typer.Exit(code)


@app.command()
def schemas(out: OutDir) -> None:
    """Write the JSON Schema of each event type and of the envelope union."""
    from services.intake.schemas import write_schemas

    for path in write_schemas(out):
        typer.echo(str(path))


@app.command()
def asyncapi(out: OutDir) -> None:
    """Write the AsyncAPI document of the Kafka-native intake (asyncapi.json, .yaml)."""
    from services.intake.bootstrap import asyncapi_document
    from services.intake.schemas import dump_json
    from shared.asyncapi_files import write_asyncapi

    paths = write_asyncapi(asyncapi_document(), out, stem="asyncapi", dump_json=dump_json)
    typer.echo("\n".join(map(str, paths)))


@tokens_app.command("new")
def new_token(
    sources: Annotated[
        list[str],
        typer.Option(
            "--source",
            help='A source the token may send for (repeat for several), or "*" for any.',
        ),
    ],
) -> None:
    """Print a fresh token and the INTAKE_TOKENS entry that configures it.

    Only the entry (the token's SHA-256 digest) goes into the configuration; the token
    itself is shown once, here, for the upstream team. Add the entry beside the old
    one to rotate a token, then remove the old one.
    """
    from services.intake.settings import parse_token_grants
    from shared.tokens import new_token as fresh_token
    from shared.tokens import token_digest

    token = fresh_token()
    entry = f"{token_digest(token)}={','.join(sources)}"
    try:
        parse_token_grants(entry)
    except ValueError as error:
        typer.echo(f"--source: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"token (give it to the sender; it is not stored anywhere):\n  {token}")
    typer.echo(f"INTAKE_TOKENS entry (compact form; separate entries with ';'):\n  {entry}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
