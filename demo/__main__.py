"""`python -m demo` (what `make demo` runs once the stack is up).

Sends the sample history (demo/sample_history.py) to intake, waits until the assessment
service has folded it, and prints what the assessment API answers. Tokens come from the
environment: INTAKE_TOKEN (default dev-token) and READ_TOKEN (default dev-read-token).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console

from demo.client import DemoError, check_reachable, get_json, send_events, service_client
from demo.report import render_report, wait_until_projected
from demo.sample_history import sample_history

# The local stack's published defaults (CONTRACT.md), not secrets.
DEV_INTAKE_TOKEN = "dev-token"  # noqa: S105
DEV_READ_TOKEN = "dev-read-token"  # noqa: S105

app = typer.Typer(add_completion=False)


def _default_url(port_variable: str, port: int) -> str:
    return f"http://127.0.0.1:{os.environ.get(port_variable, port)}"


@app.command()
def main(
    intake: Annotated[
        str | None,
        typer.Option(
            "--intake", help="Intake URL [default: http://127.0.0.1:$INTAKE_PORT or 8080]"
        ),
    ] = None,
    assessment: Annotated[
        str | None,
        typer.Option(
            "--assessment",
            help="Assessment URL [default: http://127.0.0.1:$ASSESSMENT_PORT or 8081]",
        ),
    ] = None,
    wait_timeout: Annotated[
        float, typer.Option("--wait-timeout", min=1, help="Seconds to wait for the assessment.")
    ] = 180.0,
) -> None:
    """Feed the sample history to intake and print what the assessment found."""
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 160)
    intake_url = intake or _default_url("INTAKE_PORT", 8080)
    assessment_url = assessment or _default_url("ASSESSMENT_PORT", 8081)
    read_token = os.environ.get("READ_TOKEN") or DEV_READ_TOKEN
    intake_token = os.environ.get("INTAKE_TOKEN") or DEV_INTAKE_TOKEN
    try:
        with (
            service_client(intake_url, intake_token) as intake_client,
            service_client(assessment_url, read_token) as api,
        ):
            check_reachable(intake_client, "intake")
            check_reachable(api, "assessment")
            get_json(api, "/v1/status")  # the read token works, before anything is sent
            events = sample_history()
            console.print(f"Sending {len(events)} sample events to {intake_url} …")
            accepted = send_events(intake_client, events)
            console.print(f"Intake accepted {accepted} events (202).")
            status = wait_until_projected(api, timeout=wait_timeout, console=console)
            render_report(
                api,
                console,
                status=status,
                sent=accepted,
                assessment_url=assessment_url,
                intake_url=intake_url,
                token_hint=read_token if read_token == DEV_READ_TOKEN else "$READ_TOKEN",
            )
    except DemoError as error:
        console.print(f"[bold red]demo:[/bold red] {error}")
        raise typer.Exit(1) from None


if __name__ == "__main__":
    app()
