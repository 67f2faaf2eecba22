"""What the commands share: the console for messages, settings that fail fast, and
errors that end a command with one line and an exit status instead of a traceback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TypeVar

import typer
from rich.console import Console

from services.assessment import bootstrap
from services.assessment.adapters.db import Connection
from services.assessment.settings import ProjectionSettings
from shared.settings import KafkaSettings, SettingsError, load_settings

console = Console(stderr=True)  # messages; what a command answers goes to stdout
S = TypeVar("S", bound=KafkaSettings)


def settings_of(cls: type[S]) -> S:
    """The command's settings from the environment (bad ones: exit 2); logging set up."""
    with exits_on(SettingsError, code=2):
        settings = load_settings(cls)
    level = settings.log_level if isinstance(settings, ProjectionSettings) else "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return settings


@contextmanager
def exits_on(*errors: type[Exception], code: int) -> Iterator[None]:
    """One of `errors` ends the command: its message in red, exit status `code`."""
    try:
        yield
    except errors as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code) from None


@asynccontextmanager
async def connection(
    settings: ProjectionSettings, *, as_owner: bool = False
) -> AsyncIterator[Connection]:
    """One connection of a pool opened for it (the database migrated first, see
    bootstrap.open_database), the owner's with `as_owner`."""
    pool = await bootstrap.open_database(settings, as_owner=as_owner)
    try:
        async with pool.acquire() as conn:
            yield conn
    finally:
        await pool.close()
