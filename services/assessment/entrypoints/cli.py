"""`assessment` — run the service, rebuild projections, manage versions."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, TypeVar

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
from services.assessment.adapters import versions
from services.assessment.adapters.kafka_log import HistoryReader
from services.assessment.domain.policy import Policy, PolicyError, load_policy
from services.assessment.service_layer.rebuild import (
    RebuildRefusedError,
    RebuildReport,
    rebuild,
)
from services.assessment.settings import AssessmentSettings, ProjectionSettings
from shared.runtime import tune_garbage_collector
from shared.settings import SettingsError, load_settings

app = typer.Typer(help="Assessment service: projections of efficiency warnings and alerts.")
versions_app = typer.Typer(help="Projection versions (each a full set of projections).")
app.add_typer(versions_app, name="versions")
console = Console(stderr=True)
S = TypeVar("S", bound=ProjectionSettings)


def _settings(cls: type[S]) -> S:
    try:
        settings = load_settings(cls)
    except SettingsError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
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
    try:
        report = asyncio.run(_replay(settings, chosen, note=f"replay {policy or 'configured'}"))
    except RebuildRefusedError as error:
        console.print(f"[yellow]{error}[/yellow]")
        raise typer.Exit(3) from None
    _print_report(report)


async def _replay(settings: ProjectionSettings, policy: Policy, *, note: str) -> RebuildReport:
    pool = await bootstrap.open_database(settings, as_owner=True)
    reader = HistoryReader(
        kafka=settings.kafka,
        topic=settings.topics.events,
        batch_records=settings.assessment_rebuild_batch,
    )
    await reader.start()
    try:
        with Progress(
            TextColumn("rebuilding"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>9} events/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rebuild", total=None, rate="-")
            loop = asyncio.get_running_loop()
            started = loop.time()

            def on_progress(done: int, total: int) -> None:
                elapsed = max(loop.time() - started, 1e-6)
                progress.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f}")

            return await rebuild(
                pool=pool,
                reader=reader,
                policy=policy,
                on_progress=on_progress,
                note=note,
            )
    finally:
        await reader.stop()
        await pool.close()


def _print_report(report: RebuildReport) -> None:
    out = Console()
    out.print(
        f"[green]version {report.version} is live[/green] (policy {report.policy_version}): "
        f"{report.records:,} records in {report.seconds:.1f} s "
        f"({report.records_per_second:,.0f}/s), {report.poison} unusable"
    )
    out.print("phases (s): " + ", ".join(f"{k} {v}" for k, v in report.phases.items()))
    if report.previous_version is not None:
        out.print(
            f"previous version {report.previous_version} kept; drop it with "
            f"`assessment versions drop {report.previous_version}`"
        )
    if report.discarded_builds:
        out.print(f"discarded abandoned builds: {report.discarded_builds}")
    table = Table(title="compared with the previous live version")
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


async def _drop(settings: ProjectionSettings, version: int) -> versions.Version:
    pool = await bootstrap.open_database(settings, as_owner=True)
    try:
        async with pool.acquire() as conn:
            return await versions.drop_version(conn, version)
    finally:
        await pool.close()


def main() -> None:
    app()
