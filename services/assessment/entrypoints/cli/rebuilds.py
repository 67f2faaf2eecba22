"""`assessment replay`, `assessment rerule` and `assessment versions switch`: a new
projection version built beside live (from Kafka, or from the facts PostgreSQL holds),
and the switch to a version; each under the rebuild lock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from services.assessment import bootstrap
from services.assessment.adapters import versions
from services.assessment.domain.policy import Policy, PolicyError, load_policy
from services.assessment.entrypoints.cli.common import console, exits_on, settings_of
from services.assessment.entrypoints.cli.report import print_report
from services.assessment.service_layer.bulk import RebuildWorkers
from services.assessment.service_layer.rebuild import RebuildRefusedError, RebuildReport, rebuild
from services.assessment.service_layer.rebuild_ports import RebuildLockLostError, RebuildPorts
from services.assessment.service_layer.rerule import DEFAULT_WORKERS, rerule, switch_to_version
from services.assessment.settings import ProjectionSettings
from shared.runtime import tune_garbage_collector

if TYPE_CHECKING:  # aiokafka: a what-if never connects to Kafka
    from services.assessment.adapters.kafka_log import HistoryReader


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
    settings = settings_of(ProjectionSettings)
    with exits_on(PolicyError, code=2):
        chosen = load_policy(policy) if policy else bootstrap.configured_policy(settings)
    tune_garbage_collector()
    note = f"replay {policy or 'configured'}{' (no switch)' if no_switch else ''}"
    with bootstrap.rebuild_workers() as pool:
        work = _replay(settings, chosen, note=note, switch=not no_switch, pool=pool)
        report = _build(work, "replay")
    print_report(report)


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
    settings = settings_of(ProjectionSettings)
    with exits_on(PolicyError, code=2):
        chosen = load_policy(policy)
    tune_garbage_collector()
    note = f"rerule {policy}{' (no switch)' if no_switch else ''}"
    with _evaluation_workers(workers) as pool, exits_on(versions.VersionError, code=1):
        work = _rerule(settings, chosen, note=note, switch=not no_switch, pool=pool)
        report = _build(work, "rerule")
    print_report(report)


def switch(version: Annotated[int, typer.Argument(help="The ready version to make live.")]) -> None:
    """Make a ready version live (a `replay` or `rerule --no-switch` build, or an earlier
    live one): it folds what it has not seen yet, and the change feed gets the difference.
    A `rerule --no-switch` what-if holds results only: it is evaluated again first, from
    the live facts as they are now."""
    settings = settings_of(ProjectionSettings)
    tune_garbage_collector()
    # A what-if that holds results only is evaluated again: workers ready for it.
    with _evaluation_workers(DEFAULT_WORKERS) as pool, exits_on(versions.VersionError, code=1):
        report = _build(_switch(settings, version, pool), "switch")
    print_report(report)


def _evaluation_workers(count: int) -> AbstractContextManager[RebuildWorkers | None]:
    """Forked before the event loop (bootstrap.rebuild_workers); one evaluates in this
    process."""
    return bootstrap.rebuild_workers(count) if count > 1 else nullcontext(None)


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


@asynccontextmanager
async def _owner_ports(settings: ProjectionSettings) -> AsyncIterator[RebuildPorts]:
    """The rebuild's ports on a pool of the owner's (it creates and drops schemas)."""
    pool = await bootstrap.open_database(settings, as_owner=True)
    try:
        yield bootstrap.rebuild_ports(pool, database_url=settings.owner_url)
    finally:
        await pool.close()


@asynccontextmanager
async def _history(settings: ProjectionSettings) -> AsyncIterator[HistoryReader]:
    """events.v1's reader, started."""
    reader = bootstrap.history_reader(settings)
    try:
        await reader.start()
        yield reader
    finally:
        await reader.stop()


async def _replay(
    settings: ProjectionSettings, policy: Policy, *, note: str, switch: bool, pool: RebuildWorkers
) -> RebuildReport:
    async with _owner_ports(settings) as ports, _history(settings) as reader:
        with _progress("rebuilding") as on_progress:
            return await rebuild(
                ports=ports,
                reader=reader,
                policy=policy,
                changes_topic=settings.topics.assessment_changes,
                on_progress=on_progress,
                note=note,
                switch=switch,
                pool=pool,
            )


async def _rerule(
    settings: ProjectionSettings,
    policy: Policy,
    *,
    note: str,
    switch: bool,
    pool: RebuildWorkers | None,
) -> RebuildReport:
    # Kafka only for the catch-up before a switch: a what-if does not connect to it.
    history = _history(settings) if switch else nullcontext(None)
    async with _owner_ports(settings) as ports, history as reader:
        with _progress("reruling") as on_progress:
            return await rerule(
                ports=ports,
                reader=reader,
                policy=policy,
                changes_topic=settings.topics.assessment_changes,
                pool=pool,
                on_progress=on_progress,
                note=note,
                switch=switch,
            )


async def _switch(
    settings: ProjectionSettings, version: int, pool: RebuildWorkers | None
) -> RebuildReport:
    async with _owner_ports(settings) as ports, _history(settings) as reader:
        with _progress("switching") as on_progress:
            return await switch_to_version(
                ports=ports,
                reader=reader,
                version_number=version,
                changes_topic=settings.topics.assessment_changes,
                pool=pool,
                on_progress=on_progress,
            )


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
