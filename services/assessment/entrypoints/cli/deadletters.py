"""`assessment deadletters`: the records of events.v1 the fold parked, listed and
folded again."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.assessment import bootstrap
from services.assessment.adapters import deadletter
from services.assessment.adapters.writer import ProjectionWriter
from services.assessment.domain.records import REASONS
from services.assessment.entrypoints.cli.common import connection, console, settings_of
from services.assessment.service_layer.retry import RetryReport, retry_parked
from services.assessment.settings import ProjectionSettings

deadletters_app = typer.Typer(help="Records of events.v1 the fold parked (dead letters).")

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
    settings = settings_of(ProjectionSettings)
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
    async with connection(settings) as conn:
        return await deadletter.list_parked(conn, reason=reason, since=since, limit=limit)


@deadletters_app.command("retry")
def retry_deadletters(reason: ReasonOption = None) -> None:
    """Fold the parked records of events.v1 again (after a code or policy fix); a
    record that now folds counts once, never twice."""
    settings = settings_of(ProjectionSettings)
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
