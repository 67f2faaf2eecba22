"""What the change feed says about a warning or alert that was replaced."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec.structs

from services.assessment.domain.changes import ChangeLog, ChangeType, classify, diff
from services.assessment.domain.results import Alert, Warning
from shared.catalogue import AlertLevel, AlertRule, Status, WarningRule

ISSUED = datetime(2026, 1, 9, 8, 0, tzinfo=UTC)


def warning(**changes: object) -> Warning:
    base = Warning(
        id="W-1",
        staff_id="E1024",
        unit_id="qsb/licensing",
        rule=WarningRule.RUDE_ATTITUDE,
        period="2026-01",
        issued_at=ISSUED,
        evidence=("c-1", "r-1"),
        status=Status.ACTIVE,
        policy_version="2026.1",
        scope="complaint:Q-1",
    )
    return msgspec.structs.replace(base, **changes)


def alert(**changes: object) -> Alert:
    base = Alert(
        id="A-1",
        unit_id="qsb/licensing",
        rule=AlertRule.OBSTRUCTION,
        level=AlertLevel.COLLECTIVE_WARNING,
        year=2026,
        issued_at=ISSUED,
        evidence=("r-1",),
        status=Status.ACTIVE,
        policy_version="2026.1",
        scope="complaint:Q-1",
    )
    return msgspec.structs.replace(base, **changes)


def test_a_new_active_warning_is_issued() -> None:
    change = classify(None, warning())
    assert change is not None
    assert (change.change, change.kind, change.item) == (ChangeType.ISSUED, "warning", warning())


def test_an_active_warning_that_is_revoked_or_gone_is_revoked() -> None:
    revoked = warning(status=Status.REVOKED, revoked_at=ISSUED)
    change = classify(warning(), revoked)
    assert change is not None
    assert (change.change, change.item) == (ChangeType.REVOKED, revoked)
    gone = classify(warning(), None)
    assert gone is not None
    assert gone.change is ChangeType.REVOKED
    assert gone.item.status is Status.REVOKED
    assert gone.item.id == "W-1"


def test_a_revoked_warning_standing_again_is_issued_again() -> None:
    change = classify(warning(status=Status.REVOKED), warning(issued_at=ISSUED.replace(day=20)))
    assert change is not None
    assert change.change is ChangeType.ISSUED


def test_other_content_in_the_same_state_is_reruled_but_scope_and_policy_are_not_news() -> None:
    moved = warning(evidence=("c-1", "r-2"), issued_at=ISSUED.replace(day=12))
    change = classify(warning(), moved)
    assert change is not None
    assert change.change is ChangeType.RERULED
    assert classify(warning(), warning(policy_version="2026.2", scope="x")) is None
    assert classify(warning(), warning()) is None
    assert classify(None, None) is None
    assert classify(warning(status=Status.REVOKED), None) is None


def test_a_transaction_reports_from_its_first_before_to_its_last_after() -> None:
    log = ChangeLog()
    log.record([], [warning(issued_at=ISSUED.replace(day=3))])
    log.record([warning(issued_at=ISSUED.replace(day=3))], [warning()])
    log.record([alert()], [])
    changes = log.changes()
    assert [(c.kind, c.change) for c in changes] == [
        ("warning", ChangeType.ISSUED),
        ("alert", ChangeType.REVOKED),
    ]
    assert changes[0].before is None
    assert changes[0].item == warning()


def test_diff_of_two_versions_names_each_changed_item_once() -> None:
    before: list[Warning | Alert] = [warning(), alert(), warning(id="W-2")]
    after: list[Warning | Alert] = [
        warning(policy_version="strict"),
        alert(evidence=("r-1", "r-9")),
        warning(id="W-3"),
    ]
    assert sorted((c.item.id, c.change) for c in diff(before, after)) == [
        ("A-1", ChangeType.RERULED),
        ("W-2", ChangeType.REVOKED),
        ("W-3", ChangeType.ISSUED),
    ]
