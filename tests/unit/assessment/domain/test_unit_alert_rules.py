"""Unit-year alerts: collective warnings at the 3rd, 6th … warning; leadership at the 2nd."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from services.assessment.domain.ids import stable_id
from services.assessment.domain.reference import evaluate_history
from services.assessment.domain.results import Alert, Warning
from services.assessment.domain.unit_alerts import evaluate_unit_year
from shared.catalogue import AlertLevel, AlertRule, FindingCode, Outcome, Status
from tests.unit.assessment.domain.builders import (
    at,
    collective,
    default_policy,
    filing,
    finding,
    verdict,
    warning,
)

pytestmark = pytest.mark.unit

ACCUMULATED_1 = stable_id("A", "accumulated", "unit-a", 2026, 1)
ACCUMULATED_2 = stable_id("A", "accumulated", "unit-a", 2026, 2)
LEADERSHIP = stable_id("A", "leadership", "unit-a", 2026)


def unit_year(warnings: Sequence[Warning], collectives: Sequence[Alert] = ()) -> dict[str, Alert]:
    alerts = evaluate_unit_year("unit-a", 2026, warnings, collectives, default_policy())
    return {alert.id: alert for alert in alerts}


def monthly(count: int) -> list[Warning]:
    return [warning(f"w{n}", issued=f"2026-{n:02d}-10T09:00:00+08:00") for n in range(1, count + 1)]


def test_two_warnings_raise_nothing() -> None:
    assert unit_year(monthly(2)) == {}


def test_the_third_warning_raises_a_collective_warning() -> None:
    alerts = unit_year(monthly(3))

    alert = alerts[ACCUMULATED_1]
    assert alert.rule is AlertRule.ACCUMULATED_WARNINGS
    assert alert.level is AlertLevel.COLLECTIVE_WARNING
    assert (alert.unit_id, alert.year) == ("unit-a", 2026)
    assert alert.issued_at == at("2026-03-10T09:00:00+08:00")
    assert alert.evidence == ("w1", "w2", "w3")
    assert alert.status is Status.ACTIVE
    assert alert.scope == "unit-year:unit-a:2026"
    assert alert.policy_version == "2026.1"
    assert set(alerts) == {ACCUMULATED_1}


def test_five_warnings_one_collective_six_warnings_two() -> None:
    assert set(unit_year(monthly(5))) == {ACCUMULATED_1}

    alerts = unit_year(monthly(6))

    second = alerts[ACCUMULATED_2]
    assert second.issued_at == at("2026-06-10T09:00:00+08:00")
    assert second.evidence == ("w4", "w5", "w6")
    # Two collective warnings make the head accountable, at the second.
    assert alerts[LEADERSHIP].issued_at == second.issued_at


def test_warnings_of_another_year_or_unit_do_not_count() -> None:
    last_year = [
        warning("old1", issued="2025-12-01T09:00:00+08:00"),
        warning("old2", issued="2025-12-31T15:59:59Z"),  # 23:59:59 in Shanghai
    ]
    elsewhere = warning("other", issued="2026-01-05T09:00:00+08:00", unit="unit-b")

    assert (
        unit_year([*last_year, elsewhere, warning("new", issued="2026-01-02T09:00:00+08:00")]) == {}
    )


def test_the_year_is_local() -> None:
    new_year = warning("ny", issued="2025-12-31T16:30:00Z")  # 2026-01-01 00:30 in Shanghai

    alerts = unit_year([new_year, *monthly(2)])

    assert alerts[ACCUMULATED_1].evidence == ("ny", "w1", "w2")


def test_a_revoked_warning_revokes_the_collective_warning_built_on_it() -> None:
    warnings = monthly(3)
    warnings[1] = warning(
        "w2", issued="2026-02-10T09:00:00+08:00", revoked="2026-04-01T09:00:00+08:00"
    )

    alert = unit_year(warnings)[ACCUMULATED_1]

    assert alert.status is Status.REVOKED
    assert alert.issued_at == at("2026-03-10T09:00:00+08:00")
    assert alert.revoked_at == at("2026-04-01T09:00:00+08:00")


def test_a_collective_warning_revoked_then_reached_again_is_reissued() -> None:
    warnings = monthly(3)
    warnings[1] = warning(
        "w2", issued="2026-02-10T09:00:00+08:00", revoked="2026-04-01T09:00:00+08:00"
    )
    warnings.append(warning("w5", issued="2026-05-10T09:00:00+08:00"))

    alert = unit_year(warnings)[ACCUMULATED_1]

    assert alert.status is Status.ACTIVE
    assert alert.revoked_at is None
    assert alert.issued_at == at("2026-05-10T09:00:00+08:00")
    assert alert.evidence == ("w1", "w3", "w5")


def test_a_warning_revoked_before_the_third_never_counted_with_it() -> None:
    warnings = [
        warning("w1", issued="2026-01-10T09:00:00+08:00", revoked="2026-02-01T09:00:00+08:00"),
        warning("w2", issued="2026-02-10T09:00:00+08:00"),
        warning("w3", issued="2026-03-10T09:00:00+08:00"),
    ]

    assert unit_year(warnings) == {}


def test_at_one_instant_a_revocation_comes_before_an_issue() -> None:
    same = "2026-03-10T09:00:00+08:00"
    warnings = [
        warning("w1", issued="2026-01-10T09:00:00+08:00", revoked=same),
        warning("w2", issued="2026-02-10T09:00:00+08:00"),
        warning("w3", issued=same),
    ]

    assert unit_year(warnings) == {}


def test_one_collective_warning_is_not_yet_leadership() -> None:
    alerts = unit_year([], [collective("u1", issued="2026-03-01T09:00:00+08:00")])

    assert alerts == {}


def test_the_second_collective_warning_makes_the_head_accountable() -> None:
    collectives = [
        collective("u2", issued="2026-06-01T09:00:00+08:00", rule=AlertRule.OBSTRUCTION),
        collective("u1", issued="2026-03-01T09:00:00+08:00"),
    ]

    alert = unit_year([], collectives)[LEADERSHIP]

    assert alert.rule is AlertRule.LEADERSHIP_ACCOUNTABILITY
    assert alert.level is AlertLevel.LEADERSHIP
    assert alert.issued_at == at("2026-06-01T09:00:00+08:00")
    assert alert.evidence == ("u1", "u2")
    assert alert.status is Status.ACTIVE
    assert alert.scope == "unit-year:unit-a:2026"


def test_leadership_counts_accumulated_and_event_collective_warnings_together() -> None:
    alerts = unit_year(monthly(3), [collective("u1", issued="2026-01-01T09:00:00+08:00")])

    assert alerts[LEADERSHIP].issued_at == at("2026-03-10T09:00:00+08:00")
    assert alerts[LEADERSHIP].evidence == ("u1", ACCUMULATED_1)


def test_only_obstruction_and_unit_wide_collectives_are_taken_as_given() -> None:
    passed_back_in = [
        collective("acc", issued="2026-01-01T09:00:00+08:00", rule=AlertRule.ACCUMULATED_WARNINGS),
        collective(
            "lead", issued="2026-01-02T09:00:00+08:00", rule=AlertRule.LEADERSHIP_ACCOUNTABILITY
        ),
        collective("old", issued="2025-06-01T09:00:00+08:00", year=2025),
        collective("u1", issued="2026-03-01T09:00:00+08:00"),
    ]

    assert unit_year([], passed_back_in) == {}


def test_leadership_is_revoked_with_a_collective_warning_and_reissued_later() -> None:
    warnings = monthly(3)
    warnings[1] = warning(
        "w2", issued="2026-02-10T09:00:00+08:00", revoked="2026-04-01T09:00:00+08:00"
    )
    obstruction = collective("o1", issued="2026-03-20T09:00:00+08:00", rule=AlertRule.OBSTRUCTION)

    revoked = unit_year(warnings, [obstruction])[LEADERSHIP]
    warnings.append(warning("w5", issued="2026-05-10T09:00:00+08:00"))
    reissued = unit_year(warnings, [obstruction])[LEADERSHIP]

    # Accumulated [03-10, 04-01) and obstruction from 03-20: two at once from 03-20.
    assert (revoked.status, revoked.issued_at, revoked.revoked_at) == (
        Status.REVOKED,
        at("2026-03-20T09:00:00+08:00"),
        at("2026-04-01T09:00:00+08:00"),
    )
    assert (reissued.status, reissued.issued_at, reissued.revoked_at) == (
        Status.ACTIVE,
        at("2026-05-10T09:00:00+08:00"),
        None,
    )
    assert reissued.evidence == ("o1", ACCUMULATED_1)


def test_leadership_remembers_an_earlier_spell_of_a_collective_warning() -> None:
    warnings = monthly(3)
    warnings[1] = warning(
        "w2", issued="2026-02-10T09:00:00+08:00", revoked="2026-04-01T09:00:00+08:00"
    )
    warnings.append(warning("w5", issued="2026-05-10T09:00:00+08:00"))
    obstruction = collective(
        "o1",
        issued="2026-03-20T09:00:00+08:00",
        revoked="2026-04-15T09:00:00+08:00",
        rule=AlertRule.OBSTRUCTION,
    )

    alert = unit_year(warnings, [obstruction])[LEADERSHIP]

    # Both were active from 03-20 until the accumulated one was revoked on 04-01; its
    # second spell from 05-10 never overlapped the obstruction alert.
    assert (alert.status, alert.issued_at, alert.revoked_at) == (
        Status.REVOKED,
        at("2026-03-20T09:00:00+08:00"),
        at("2026-04-01T09:00:00+08:00"),
    )


def test_an_overturned_verdict_takes_back_everything_built_on_it() -> None:
    filings = [
        filing(f"c{n}", event_id=f"f{n}", staff=f"E{n}", when=f"2026-0{n}-02T09:00:00+08:00")
        for n in (1, 2, 3)
    ]
    verdicts = [
        verdict(f"c{n}", event_id=f"v{n}", when=f"2026-0{n}-05T09:00:00+08:00") for n in (1, 2, 3)
    ]
    unit_wide = finding(
        event_id="i1",
        when="2026-02-20T10:00:00+08:00",
        staff=None,
        unit_wide=True,
        code=FindingCode.UNTIDY,
        source="inspection-app",
    )
    appeal = verdict(
        "c2", event_id="v2-appeal", when="2026-06-01T09:00:00+08:00", outcome=Outcome.UNFOUNDED
    )

    before = evaluate_history(
        filings=filings, verdicts=verdicts, findings=[unit_wide], policy=default_policy()
    )
    after = evaluate_history(
        filings=filings, verdicts=[*verdicts, appeal], findings=[unit_wide], policy=default_policy()
    )

    def status(history_alerts: Sequence[Alert], alert_id: str) -> tuple[Status, str | None]:
        (alert,) = [a for a in history_alerts if a.id == alert_id]
        return alert.status, alert.revoked_at.isoformat() if alert.revoked_at else None

    assert status(before.alerts, ACCUMULATED_1) == (Status.ACTIVE, None)
    assert status(before.alerts, LEADERSHIP) == (Status.ACTIVE, None)
    revoked_at = "2026-06-01T09:00:00+08:00"
    assert [w.status for w in after.warnings if w.staff_id == "E2"] == [Status.REVOKED]
    assert status(after.alerts, ACCUMULATED_1) == (Status.REVOKED, revoked_at)
    assert status(after.alerts, LEADERSHIP) == (Status.REVOKED, revoked_at)
    # The unit-wide collective warning itself stands.
    assert [a.status for a in after.alerts if a.rule is AlertRule.UNIT_WIDE_VIOLATION] == [
        Status.ACTIVE
    ]
