"""`assessment` — run the service, rebuild projections, manage versions.

The commands live by group: service (run), rebuilds (replay, rerule, versions switch),
versions, deadletters, feed (changes tail, schemas, asyncapi), tokens; common holds
what they share. This module puts them together, in the order `--help` lists them."""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec

import typer

from services.assessment.entrypoints.cli import (
    deadletters,
    feed,
    rebuilds,
    service,
    tokens,
    versions,
)

app = typer.Typer(help="Assessment service: projections of efficiency warnings and alerts.")
app.add_typer(versions.versions_app, name="versions")
app.add_typer(deadletters.deadletters_app, name="deadletters")
app.add_typer(feed.changes_app, name="changes")
app.add_typer(tokens.tokens_app, name="tokens")
app.command()(service.run)
app.command()(rebuilds.replay)
app.command("rerule")(rebuilds.rerule_command)
app.command()(feed.schemas)
app.command()(feed.asyncapi)


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
