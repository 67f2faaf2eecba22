"""`assessment versions`: the projection versions, listed and dropped (`switch` is a
rebuild's last step, in rebuilds.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.assessment.adapters import versions
from services.assessment.entrypoints.cli.common import connection, exits_on, settings_of
from services.assessment.entrypoints.cli.rebuilds import switch
from services.assessment.settings import ProjectionSettings

versions_app = typer.Typer(help="Projection versions (each a full set of projections).")


@versions_app.command("list")
def list_versions() -> None:
    """Every projection version: policy, events, created, live or not."""
    settings = settings_of(ProjectionSettings)
    rows = asyncio.run(_list(settings))
    table = Table(title="projection versions")
    for column in ("version", "state", "policy", "fingerprint", "events", "created", "live since"):
        table.add_column(column)
    for found, events in rows:
        table.add_row(
            str(found.version),
            "[green]live[/green]" if found.is_live else _state(found),
            found.policy_version,
            found.policy_fingerprint,
            f"{events:,}",
            f"{found.created_at:%Y-%m-%d %H:%M:%S}",
            f"{found.live_since:%Y-%m-%d %H:%M:%S}" if found.live_since else "",
        )
    Console().print(table)


@versions_app.command("drop")
def drop(version: Annotated[int, typer.Argument(help="The version number to drop.")]) -> None:
    """Drop a version that is not live (its schema and data)."""
    settings = settings_of(ProjectionSettings)
    with exits_on(versions.VersionError, code=1):
        dropped = asyncio.run(_drop(settings, version))
    Console().print(f"dropped version {dropped.version} ({dropped.schema_name})")


versions_app.command("switch")(switch)


def _state(found: versions.Version) -> str:
    # A what-if that shares live's facts: its event count is 0, and a switch evaluates it again.
    return found.state if found.holds_facts else f"{found.state} (what-if, results only)"


async def _list(settings: ProjectionSettings) -> list[tuple[versions.Version, int]]:
    async with connection(settings, as_owner=True) as conn:
        return [
            (found, await versions.event_count(conn, found.schema_name))
            for found in await versions.list_versions(conn)
        ]


async def _drop(settings: ProjectionSettings, version: int) -> versions.Version:
    async with connection(settings, as_owner=True) as conn:
        return await versions.drop_version(conn, version)
