"""Complaint rules, DOMAIN.md line by line: the standing verdict decides everything."""

from __future__ import annotations

import pytest

from services.assessment.domain.complaints import evaluate_complaint
from services.assessment.domain.facts import ComplaintFiling, ComplaintVerdict
from services.assessment.domain.ids import stable_id
from services.assessment.domain.results import ComplaintOutcome
from shared.catalogue import (
    AlertLevel,
    AlertRule,
    Category,
    Channel,
    Handling,
    Outcome,
    Status,
    WarningRule,
)
from tests.unit.assessment.domain.builders import at, default_policy, filing, verdict

pytestmark = pytest.mark.unit


def evaluate(filings: list[ComplaintFiling], verdicts: list[ComplaintVerdict]) -> ComplaintOutcome:
    return evaluate_complaint("c1", filings, verdicts, default_policy())


@pytest.mark.parametrize(
    ("category", "rule"),
    [
        (Category.DELAY, WarningRule.TIME_LIMIT),
        (Category.FIRST_INQUIRY, WarningRule.FIRST_INQUIRY),
        (Category.RUDE_ATTITUDE, WarningRule.RUDE_ATTITUDE),
        (Category.BRIBERY, WarningRule.BRIBERY),
        (Category.ABUSE_OF_POWER, WarningRule.ABUSE_OF_POWER),
        (Category.RETALIATION, WarningRule.RETALIATION),
        (Category.DISCLOSURE, WarningRule.OTHER_DERELICTION),
        (Category.IGNORED_REQUEST, WarningRule.OTHER_DERELICTION),
        (Category.OVERCHARGING, WarningRule.OTHER_DERELICTION),
        (Category.REFUSAL, WarningRule.OTHER_DERELICTION),
        (Category.DETOUR, WarningRule.OTHER_DERELICTION),
        (Category.OTHER, WarningRule.OTHER_DERELICTION),
    ],
)
def test_each_category_leads_to_its_rule(category: Category, rule: WarningRule) -> None:
    outcome = evaluate([filing(category=category)], [verdict()])

    assert [w.rule for w in outcome.warnings] == [rule]


def test_a_substantiated_complaint_warns_the_named_person_at_the_verdict() -> None:
    the_filing = filing(event_id="f1", staff="E7", unit="unit-a")
    the_verdict = verdict(event_id="v1", when="2026-03-31T16:30:00Z", unit="unit-a")

    outcome = evaluate([the_filing], [the_verdict])

    (warning,) = outcome.warnings
    assert warning.staff_id == "E7"
    assert warning.unit_id == "unit-a"
    assert warning.issued_at == the_verdict.key.occurred_at
    assert warning.period == "2026-04"  # 2026-04-01 00:30 in Shanghai
    assert warning.evidence == ("f1", "v1")
    assert warning.status is Status.ACTIVE
    assert warning.revoked_at is None
    assert warning.policy_version == "2026.1"
    assert warning.scope == "complaint:c1"
    assert warning.id == stable_id("W", "complaint", "c1", "E7")
    assert outcome.alerts == ()


@pytest.mark.parametrize("outcome", [Outcome.UNFOUNDED, Outcome.WITHDRAWN])
def test_an_unfounded_or_withdrawn_complaint_warns_nobody(outcome: Outcome) -> None:
    result = evaluate([filing()], [verdict(outcome=outcome)])

    assert result.warnings == ()
    assert result.state is not None
    assert result.state.outcome is outcome


def test_the_final_category_is_the_verdicts_else_the_filed_one() -> None:
    reclassified = evaluate(
        [filing(category=Category.RUDE_ATTITUDE)], [verdict(category=Category.BRIBERY)]
    )
    as_filed = evaluate([filing(category=Category.RUDE_ATTITUDE)], [verdict(category=None)])

    assert [w.rule for w in reclassified.warnings] == [WarningRule.BRIBERY]
    assert reclassified.state is not None
    assert reclassified.state.category is Category.RUDE_ATTITUDE
    assert reclassified.state.final_category is Category.BRIBERY
    assert [w.rule for w in as_filed.warnings] == [WarningRule.RUDE_ATTITUDE]


def test_a_category_on_an_overturned_verdict_no_longer_counts() -> None:
    first = verdict(event_id="v1", category=Category.BRIBERY, when="2026-03-03T10:00:00+08:00")
    appeal = verdict(event_id="v2", category=None, when="2026-03-09T10:00:00+08:00")

    outcome = evaluate([filing(category=Category.DELAY)], [first, appeal])

    assert [(w.rule, w.status) for w in outcome.warnings] == [
        (WarningRule.TIME_LIMIT, Status.ACTIVE)
    ]
    assert outcome.state is not None
    assert outcome.state.final_category is Category.DELAY


def test_the_responsible_person_is_the_verdicts_else_the_filed_one() -> None:
    named_by_verdict = evaluate([filing(staff="E1")], [verdict(staff="E2", unit="unit-b")])
    named_when_filed = evaluate([filing(staff="E1")], [verdict(staff=None)])

    assert [(w.staff_id, w.unit_id) for w in named_by_verdict.warnings] == [("E2", "unit-b")]
    assert named_by_verdict.state is not None
    assert named_by_verdict.state.responsible_staff_id == "E2"
    # Complaint figures count for the unit filed against.
    assert named_by_verdict.state.unit_id == "unit-a"
    assert [w.staff_id for w in named_when_filed.warnings] == ["E1"]


def test_nobody_named_means_no_warning_but_still_substantiated() -> None:
    outcome = evaluate([filing(staff=None)], [verdict(staff=None)])

    assert outcome.warnings == ()
    assert outcome.state is not None
    assert outcome.state.outcome is Outcome.SUBSTANTIATED
    assert outcome.state.responsible_staff_id is None


def test_a_verdict_without_its_filing_waits() -> None:
    early_verdict = verdict()

    assert evaluate([], [early_verdict]) == ComplaintOutcome(state=None, warnings=(), alerts=())
    assert [w.staff_id for w in evaluate([filing()], [early_verdict]).warnings] == ["E1"]


def test_a_complaint_filed_twice_counts_once_by_its_earliest_filing() -> None:
    later = filing(event_id="f2", when="2026-03-04T09:00:00+08:00", channel=Channel.WEB)
    earliest = filing(event_id="f1", when="2026-03-02T09:00:00+08:00", channel=Channel.PHONE)

    outcome = evaluate([later, earliest], [verdict(when="2026-03-05T10:00:00+08:00")])

    assert outcome.state is not None
    assert outcome.state.filing_event_id == "f1"
    assert outcome.state.channel is Channel.PHONE
    assert outcome.state.filed_at == earliest.key.occurred_at
    assert [w.evidence for w in outcome.warnings] == [("f1", "v1")]


def test_the_state_before_any_verdict() -> None:
    the_filing = filing(
        when="2026-01-31T17:30:00Z", handling=Handling.APPROVAL, category=Category.DETOUR
    )

    outcome = evaluate([the_filing], [])

    assert outcome.warnings == ()
    assert outcome.state is not None
    state = outcome.state
    assert state.filed_month == "2026-02"
    assert state.final_category is Category.DETOUR
    # Filed on Sunday 2026-02-01 local: Mon 2nd (1), Tue 3rd (2).
    assert state.deadline == at("2026-02-04T00:00:00+08:00")
    assert state.deadline_month == "2026-02"
    assert (state.resolved_at, state.resolved_month, state.resolved_late) == (None, None, False)
    assert (state.outcome, state.outcome_at, state.verdict_event_id) == (None, None, None)
    assert state.responsible_staff_id == "E1"
    assert state.obstructed is False


def test_on_re_examination_the_latest_verdict_stands() -> None:
    first = verdict(event_id="v9", when="2026-03-03T10:00:00+08:00", outcome=Outcome.UNFOUNDED)
    appeal = verdict(event_id="v1", when="2026-03-10T10:00:00+08:00")

    outcome = evaluate([filing()], [appeal, first])

    assert [(w.status, w.evidence) for w in outcome.warnings] == [(Status.ACTIVE, ("f1", "v1"))]
    assert outcome.state is not None
    assert outcome.state.verdict_event_id == "v1"
    assert outcome.state.resolved_at == first.key.occurred_at


def test_at_the_same_instant_the_greater_event_id_stands() -> None:
    same_time = "2026-03-10T10:00:00+08:00"
    greater = verdict(event_id="v2", when=same_time, outcome=Outcome.UNFOUNDED)
    lesser = verdict(event_id="v10", when=same_time)  # "v10" < "v2" as text

    outcome = evaluate([filing()], [greater, lesser])

    assert outcome.state is not None
    assert outcome.state.outcome is Outcome.UNFOUNDED
    assert [(w.status, w.revoked_at) for w in outcome.warnings] == [(Status.REVOKED, at(same_time))]


def test_same_instant_and_id_the_greater_source_stands() -> None:
    same_time = "2026-03-10T10:00:00+08:00"
    from_b = verdict(event_id="v1", when=same_time, source="source-b", outcome=Outcome.WITHDRAWN)
    from_a = verdict(event_id="v1", when=same_time, source="source-a")

    outcome = evaluate([filing()], [from_b, from_a])

    assert outcome.state is not None
    assert outcome.state.outcome is Outcome.WITHDRAWN


def test_an_overturned_verdict_revokes_the_warning() -> None:
    upheld = verdict(event_id="v1", when="2026-03-03T10:00:00+08:00")
    overturned = verdict(event_id="v2", when="2026-04-01T10:00:00+08:00", outcome=Outcome.UNFOUNDED)

    outcome = evaluate([filing()], [upheld, overturned])

    (warning,) = outcome.warnings
    assert warning.status is Status.REVOKED
    assert warning.issued_at == upheld.key.occurred_at
    assert warning.period == "2026-03"
    assert warning.revoked_at == overturned.key.occurred_at
    assert warning.evidence == ("f1", "v1", "v2")
    # Same id as when it was active: the stored row is replaced, not duplicated.
    assert warning.id == evaluate([filing()], [upheld]).warnings[0].id


def test_responsibility_moved_from_a_to_b() -> None:
    to_a = verdict(event_id="v1", staff="A", when="2026-03-03T10:00:00+08:00")
    to_b = verdict(event_id="v2", staff="B", when="2026-03-20T10:00:00+08:00", unit="unit-b")

    outcome = evaluate([filing(staff=None)], [to_b, to_a])

    by_staff = {w.staff_id: w for w in outcome.warnings}
    assert by_staff["B"].status is Status.ACTIVE
    assert by_staff["B"].unit_id == "unit-b"
    assert by_staff["A"].status is Status.REVOKED
    assert by_staff["A"].revoked_at == to_b.key.occurred_at
    assert by_staff["A"].evidence == ("f1", "v1", "v2")
    assert by_staff["A"].id != by_staff["B"].id


def test_a_revoked_warning_is_built_from_the_persons_latest_warning_verdict() -> None:
    verdicts = [
        verdict(event_id="v1", staff="A", when="2026-03-03T10:00:00+08:00"),
        verdict(event_id="v2", staff="A", when="2026-03-05T10:00:00+08:00"),
        verdict(
            event_id="v3", staff="A", when="2026-03-07T10:00:00+08:00", outcome=Outcome.UNFOUNDED
        ),
        verdict(
            event_id="v4", staff="B", when="2026-03-09T10:00:00+08:00", outcome=Outcome.UNFOUNDED
        ),
    ]

    (warning,) = evaluate([filing(staff=None)], verdicts).warnings

    assert warning.staff_id == "A"
    assert warning.status is Status.REVOKED
    assert warning.evidence == ("f1", "v2", "v3")
    assert warning.revoked_at == at("2026-03-07T10:00:00+08:00")


def test_back_to_the_first_person_reissues_the_same_warning() -> None:
    verdicts = [
        verdict(event_id="v1", staff="A", when="2026-03-03T10:00:00+08:00"),
        verdict(event_id="v2", staff="B", when="2026-03-05T10:00:00+08:00"),
        verdict(event_id="v3", staff="A", when="2026-03-07T10:00:00+08:00"),
    ]

    outcome = evaluate([filing(staff=None)], verdicts)

    assert sorted((w.staff_id, w.status, w.evidence) for w in outcome.warnings) == [
        ("A", Status.ACTIVE, ("f1", "v3")),
        ("B", Status.REVOKED, ("f1", "v2", "v3")),
    ]


@pytest.mark.parametrize("outcome", list(Outcome))
def test_obstruction_follows_the_standing_verdict_whatever_its_outcome(outcome: Outcome) -> None:
    standing = verdict(event_id="v1", obstructed=True, outcome=outcome, unit="unit-b")

    (alert,) = evaluate([filing()], [standing]).alerts

    assert alert.rule is AlertRule.OBSTRUCTION
    assert alert.level is AlertLevel.COLLECTIVE_WARNING
    assert alert.status is Status.ACTIVE
    assert alert.unit_id == "unit-b"
    assert alert.year == 2026
    assert alert.issued_at == standing.key.occurred_at
    assert alert.evidence == ("f1", "v1")
    assert alert.scope == "complaint:c1"
    assert alert.id == stable_id("A", "obstruction", "c1")


def test_obstruction_on_an_overturned_verdict_is_revoked() -> None:
    obstructed = verdict(event_id="v1", obstructed=True, when="2026-03-03T10:00:00+08:00")
    clean = verdict(event_id="v2", obstructed=False, when="2026-03-09T10:00:00+08:00")

    outcome = evaluate([filing()], [clean, obstructed])

    (alert,) = outcome.alerts
    assert alert.status is Status.REVOKED
    assert alert.issued_at == obstructed.key.occurred_at
    assert alert.revoked_at == clean.key.occurred_at
    assert outcome.state is not None
    assert outcome.state.obstructed is False


def test_no_obstruction_no_alert() -> None:
    assert evaluate([filing()], [verdict(obstructed=False)]).alerts == ()
