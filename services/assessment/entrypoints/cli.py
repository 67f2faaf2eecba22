"""`assessment` — run the service, rebuild projections, manage versions."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from services.assessment import bootstrap
from services.assessment.adapters import deadletter, versions
from services.assessment.adapters.kafka_log import FeedTail
from services.assessment.adapters.writer import ProjectionWriter
from services.assessment.domain.policy import Policy, PolicyError, load_policy
from services.assessment.domain.records import REASONS
from services.assessment.service_layer.rebuild import (
    RebuildRefusedError,
    RebuildReport,
    rebuild,
    switch_to,
)
from services.assessment.service_layer.rebuild_ports import RebuildLockLostError
from services.assessment.service_layer.rerule import DEFAULT_WORKERS, rerule
from services.assessment.service_layer.retry import RetryReport, retry_parked
from services.assessment.settings import AssessmentSettings, ProjectionSettings
from shared.runtime import tune_garbage_collector
from shared.settings import KafkaSettings, SettingsError, load_settings

app = typer.Typer(help="Assessment service: projections of efficiency warnings and alerts.")
versions_app = typer.Typer(help="Projection versions (each a full set of projections).")
app.add_typer(versions_app, name="versions")
deadletters_app = typer.Typer(help="Records of events.v1 the fold parked (dead letters).")
app.add_typer(deadletters_app, name="deadletters")
changes_app = typer.Typer(help="The change feed for other teams (assessment.changes.v1).")
app.add_typer(changes_app, name="changes")
tokens_app = typer.Typer(help="Read tokens for the query API.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
console = Console(stderr=True)
S = TypeVar("S", bound=KafkaSettings)


def _settings(cls: type[S]) -> S:
    try:
        settings = load_settings(cls)
    except SettingsError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    level = settings.log_level if isinstance(settings, ProjectionSettings) else "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return settings


@app.command()
def run() -> None:
    """Run the consumer and the query API (port ASSESSMENT_PORT, default 8081)."""
    settings = _settings(AssessmentSettings)
    tune_garbage_collector()
    try:
        asyncio.run(bootstrap.serve(settings))
    except PolicyError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


@app.command()
def replay(
    policy: Annotated[
        Path | None, typer.Option(help="Policy file for the new version (default: configured).")
    ] = None,
    no_switch: Annotated[
        bool,
        typer.Option(
            "--no-switch",
            help="Build only (a what-if): print the difference from live, leave live "
            "untouched; then `versions switch N` or `versions drop N`.",
        ),
    ] = False,
) -> None:
    """Rebuild every projection from the start of events.v1 into a new version, then
    switch the query API to it; the live version serves until then."""
    settings = _settings(ProjectionSettings)
    try:
        chosen = load_policy(policy) if policy else bootstrap.configured_policy(settings)
    except PolicyError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    tune_garbage_collector()
    note = f"replay {policy or 'configured'}{' (no switch)' if no_switch else ''}"
    _print_report(_build(_replay(settings, chosen, note=note, switch=not no_switch), "replay"))


def _build(work: Coroutine[Any, Any, RebuildReport], command: str) -> RebuildReport:
    """Runs a replay, rerule or switch; a refusal (another holds the lock) exits 3, a
    lost lock 4, each with one line instead of a traceback."""
    try:
        return asyncio.run(work)
    except RebuildRefusedError as error:
        console.print(f"[yellow]{error}[/yellow]")
        raise typer.Exit(3) from None
    except RebuildLockLostError as error:
        console.print(f"[red]{error}; run the {command} again[/red]")
        raise typer.Exit(4) from None


async def _replay(
    settings: ProjectionSettings, policy: Policy, *, note: str, switch: bool = True
) -> RebuildReport:
    pool = await bootstrap.open_database(settings, as_owner=True)
    reader = bootstrap.history_reader(settings)
    await reader.start()
    try:
        with _progress("rebuilding") as on_progress:
            return await rebuild(
                ports=bootstrap.rebuild_ports(pool, database_url=settings.owner_url),
                reader=reader,
                policy=policy,
                changes_topic=settings.topics.assessment_changes,
                on_progress=on_progress,
                note=note,
                switch=switch,
            )
    finally:
        await reader.stop()
        await pool.close()


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr; yields the callback that moves it (done, total)."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>9} events/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=None, rate="-")
        started = time.monotonic()

        def on_progress(done: int, total: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f}")

        yield on_progress


@app.command("rerule")
def rerule_command(
    policy: Annotated[Path, typer.Option(help="Policy file for the new version.")],
    no_switch: Annotated[
        bool,
        typer.Option(
            "--no-switch",
            help="A pure what-if: print the difference from live, leave live untouched and "
            "read nothing from Kafka; then `versions switch N` or `versions drop N`.",
        ),
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, help="Evaluation worker processes (default: one per core).")
    ] = DEFAULT_WORKERS,
) -> None:
    """Recompute every projection under a policy from the facts the live version already
    holds in PostgreSQL (no fact is read from Kafka), in parallel over slices of the
    scopes, into a new version; then catch up and switch to it as `replay` does."""
    settings = _settings(ProjectionSettings)
    try:
        chosen = load_policy(policy)
    except PolicyError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    tune_garbage_collector()
    note = f"rerule {policy}{' (no switch)' if no_switch else ''}"
    work = _rerule(settings, chosen, note=note, switch=not no_switch, workers=workers)
    try:
        report = _build(work, "rerule")
    except versions.VersionError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    _print_report(report)


async def _rerule(
    settings: ProjectionSettings, policy: Policy, *, note: str, switch: bool, workers: int
) -> RebuildReport:
    pool = await bootstrap.open_database(settings, as_owner=True)
    # Kafka only for the catch-up before a switch: a what-if does not connect to it.
    reader = bootstrap.history_reader(settings) if switch else None
    try:
        if reader is not None:
            await reader.start()
        with _progress("reruling") as on_progress:
            return await rerule(
                ports=bootstrap.rebuild_ports(pool, database_url=settings.owner_url),
                reader=reader,
                policy=policy,
                changes_topic=settings.topics.assessment_changes,
                workers=workers,
                on_progress=on_progress,
                note=note,
                switch=switch,
            )
    finally:
        if reader is not None:
            await reader.stop()
        await pool.close()


def _print_report(report: RebuildReport) -> None:
    out = Console()
    state = "is live" if report.switched else "is built, not live (what-if)"
    out.print(
        f"[green]version {report.version} {state}[/green] (policy {report.policy_version}): "
        f"{report.records:,} records in {report.seconds:.1f} s "
        f"({report.records_per_second:,.0f}/s), {report.poison} unusable"
    )
    out.print("phases (s): " + ", ".join(f"{k} {v}" for k, v in report.phases.items()))
    out.print(f"change feed: {report.changes_published} changes queued for subscribers")
    if not report.switched:
        out.print(
            f"live version {report.previous_version} untouched; switch with "
            f"`assessment versions switch {report.version}` or drop with "
            f"`assessment versions drop {report.version}`"
        )
    elif report.previous_version is not None:
        out.print(
            f"previous version {report.previous_version} kept; drop it with "
            f"`assessment versions drop {report.previous_version}`"
        )
    if report.discarded_builds:
        out.print(f"discarded abandoned builds: {report.discarded_builds}")
    table = Table(
        title="compared with the previous live version"
        if report.switched
        else "compared with the live version"
    )
    for column in ("", "active before", "active after", "added", "revoked", "rule changed"):
        table.add_column(column, justify="right")
    for name, diff in (("warnings", report.warnings), ("alerts", report.alerts)):
        if diff is not None:
            table.add_row(
                name,
                *map(
                    str,
                    (
                        diff.active_before,
                        diff.active_after,
                        diff.added,
                        diff.revoked,
                        diff.rule_changed,
                    ),
                ),
            )
    if report.warnings is not None:
        out.print(table)


@tokens_app.command("new")
def new_read_token() -> None:
    """Print a fresh read token and the READ_TOKENS entry that configures it.

    Only the entry (the token's SHA-256 digest) goes into the configuration; the token
    is shown once, here. Add the entry beside the old one to rotate, then remove the old.
    """
    from shared.tokens import new_token, token_digest

    token = new_token()
    typer.echo(f"read token (give it to the reader; it is not stored anywhere):\n  {token}")
    typer.echo(f"READ_TOKENS entry (separate entries with ','):\n  {token_digest(token)}")


@versions_app.command("list")
def list_versions() -> None:
    """Every projection version: policy, events, created, live or not."""
    settings = _settings(ProjectionSettings)
    rows = asyncio.run(_list(settings))
    table = Table(title="projection versions")
    for column in ("version", "state", "policy", "fingerprint", "events", "created", "live since"):
        table.add_column(column)
    for found, events in rows:
        table.add_row(
            str(found.version),
            "[green]live[/green]" if found.is_live else found.state,
            found.policy_version,
            found.policy_fingerprint,
            f"{events:,}",
            f"{found.created_at:%Y-%m-%d %H:%M:%S}",
            f"{found.live_since:%Y-%m-%d %H:%M:%S}" if found.live_since else "",
        )
    Console().print(table)


async def _list(settings: ProjectionSettings) -> list[tuple[versions.Version, int]]:
    pool = await bootstrap.open_database(settings, as_owner=True)
    try:
        async with pool.acquire() as conn:
            return [
                (found, await versions.event_count(conn, found.schema_name))
                for found in await versions.list_versions(conn)
            ]
    finally:
        await pool.close()


@versions_app.command("drop")
def drop(version: Annotated[int, typer.Argument(help="The version number to drop.")]) -> None:
    """Drop a version that is not live (its schema and data)."""
    settings = _settings(ProjectionSettings)
    try:
        dropped = asyncio.run(_drop(settings, version))
    except versions.VersionError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    Console().print(f"dropped version {dropped.version} ({dropped.schema_name})")


@versions_app.command("switch")
def switch(version: Annotated[int, typer.Argument(help="The ready version to make live.")]) -> None:
    """Make a ready version live (a `replay` or `rerule --no-switch` build, or an earlier
    live one): it folds what it has not seen yet, and the change feed gets the difference."""
    settings = _settings(ProjectionSettings)
    tune_garbage_collector()
    try:
        report = _build(_switch(settings, version), "switch")
    except versions.VersionError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    _print_report(report)


async def _switch(settings: ProjectionSettings, version: int) -> RebuildReport:
    pool = await bootstrap.open_database(settings, as_owner=True)
    reader = bootstrap.history_reader(settings)
    await reader.start()
    try:
        return await switch_to(
            ports=bootstrap.rebuild_ports(pool, database_url=settings.owner_url),
            reader=reader,
            version_number=version,
            changes_topic=settings.topics.assessment_changes,
        )
    finally:
        await reader.stop()
        await pool.close()


async def _drop(settings: ProjectionSettings, version: int) -> versions.Version:
    pool = await bootstrap.open_database(settings, as_owner=True)
    try:
        async with pool.acquire() as conn:
            return await versions.drop_version(conn, version)
    finally:
        await pool.close()


ReasonOption = Annotated[
    str | None, typer.Option("--reason", help=f"Only this reason: {', '.join(REASONS)}.")
]


@deadletters_app.command("list")
def list_deadletters(
    reason: ReasonOption = None,
    since: Annotated[
        datetime | None, typer.Option("--since", help="Parked at or after (ISO 8601).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 1000,
) -> None:
    """What was parked and why (never the records' data: it holds complainant data)."""
    settings = _settings(ProjectionSettings)
    parked = asyncio.run(_parked(settings, reason=reason, since=since, limit=limit))
    table = Table(title=f"dead letters ({len(parked)})")
    for column in ("parked at", "origin", "reason", "source", "id", "type", "error", "retry"):
        table.add_column(column, overflow="fold")
    for item in parked:
        table.add_row(
            f"{item.parked_at:%Y-%m-%d %H:%M:%S}",
            item.origin,
            item.reason,
            item.source or "",
            item.event_id or "",
            item.event_type or "",
            item.error[:200],
            item.retry_outcome or "",
        )
    Console().print(table)


async def _parked(
    settings: ProjectionSettings, *, reason: str | None, since: datetime | None, limit: int
) -> list[deadletter.Parked]:
    pool = await bootstrap.open_database(settings)
    try:
        async with pool.acquire() as conn:
            return await deadletter.list_parked(conn, reason=reason, since=since, limit=limit)
    finally:
        await pool.close()


@deadletters_app.command("retry")
def retry_deadletters(reason: ReasonOption = None) -> None:
    """Fold the parked records of events.v1 again (after a code or policy fix); a
    record that now folds counts once, never twice."""
    settings = _settings(ProjectionSettings)
    report = asyncio.run(_retry(settings, reason=reason))
    summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(report.outcomes.items()))
    Console().print(f"retried {report.records} parked record(s): {summary or 'nothing to do'}")


async def _retry(settings: ProjectionSettings, *, reason: str | None) -> RetryReport:
    pool = await bootstrap.open_database(settings)
    try:
        async with pool.acquire() as conn:
            records = await deadletter.retryable(conn, topic=settings.topics.events, reason=reason)
        writer = ProjectionWriter(
            pool,
            deadletter_topic=settings.topics.assessment_deadletter,
            changes_topic=settings.topics.assessment_changes,
        )
        with Progress(
            TextColumn("retrying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("retry", total=len(records))
            return await retry_parked(
                records,
                writer.live,
                on_progress=lambda done: progress.update(task, completed=done),
            )
    finally:
        await pool.close()


OutDir = Annotated[Path, typer.Option("--out", help="Directory to write to.")]


@app.command()
def schemas(out: OutDir) -> None:
    """Write the JSON Schema of the change feed's payloads (a warning, an alert)."""
    from services.assessment.entrypoints.feed_docs import write_feed_schemas

    for path in write_feed_schemas(out):
        typer.echo(str(path))


@app.command()
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
    settings = _settings(KafkaSettings)
    try:
        asyncio.run(_tail(settings, from_beginning=from_beginning, limit=limit))
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None


async def _tail(settings: KafkaSettings, *, from_beginning: bool, limit: int | None) -> None:
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


def main() -> None:
    _spawn_without_this_script()
    app()


def _spawn_without_this_script() -> None:
    """The rebuild's decode workers are spawned processes. Started from a console script
    (a `__main__` without a module spec), each would first run that script again, and so
    import this whole CLI (FastStream, FastAPI, rich ...: about a second of CPU per
    worker, docs/performance.md) where its work needs only bulk_decode's modules. A spec
    named `__main__` tells multiprocessing to leave the workers' `__main__` alone."""
    script = sys.modules["__main__"]
    if getattr(script, "__spec__", None) is None:
        script.__spec__ = ModuleSpec("__main__", None)
