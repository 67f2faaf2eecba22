"""The short form of `make chaos`: kill -9 of the assessment (live and mid-rebuild),
intake, PostgreSQL and the broker, in turn, under a seeded load sent over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.run import run_chaos

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(1200)  # five faults, each recovered in seconds to a minute or two
def test_killing_each_part_in_turn_loses_and_doubles_nothing(tmp_path: Path) -> None:
    report = run_chaos(seed=7, plan="short", events=1200, logs=tmp_path)
    summary = "\n".join(report.lines())
    print(summary)  # the faults, recovery times and intake's answers, with -s

    assert [f.kind for f in report.faults] == [
        "assessment",
        "rebuild",
        "intake",
        "postgres",
        "broker",
    ]
    assert all(f.recovery_s is not None for f in report.faults), summary
    assert report.accepted >= 1200, summary
    assert (report.lost_in_log, report.lost_in_projection) == (0, 0), summary
    assert report.doubled_in_projection == 0, summary
    assert report.unaccepted_in_log == 0, summary
    assert report.matches_oracle, summary
    assert report.statuses["503"] + report.statuses["ConnectError"] > 0, "the faults showed"
    assert report.left_running == [], summary
    assert report.ok, summary
