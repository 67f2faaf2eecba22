"""What a replay, rerule or switch prints when it is done (stdout)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from services.assessment.service_layer.rebuild import RebuildReport


def print_report(report: RebuildReport) -> None:
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
