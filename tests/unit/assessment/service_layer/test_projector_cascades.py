"""Cascades the random histories rarely hit: a warning that moves to another unit
must recompute the unit-year it left, not only the one it joined."""

from __future__ import annotations

import asyncio

import pytest

from services.assessment.domain.event_facts import FactBatch, InspectionFact
from services.assessment.domain.facts import Finding
from services.assessment.domain.reference import evaluate_history
from services.assessment.service_layer.projector import project
from shared.catalogue import AlertRule, FindingCode, InspectionMode, Status, WarningRule
from tests.unit.assessment.domain.builders import default_policy, finding
from tests.unit.assessment.service_layer.fakes import InMemoryStore

pytestmark = pytest.mark.unit


def batch_of(*findings: Finding) -> FactBatch:
    inspections = [
        InspectionFact(f.key, f.inspection_id, f.unit_id, InspectionMode.SYSTEM, 1)
        for f in findings
    ]
    return FactBatch(inspections=inspections, findings=list(findings))


def test_an_attendance_warning_that_moves_unit_recomputes_the_unit_it_left() -> None:
    policy = default_policy()
    absences = [
        finding(
            event_id=f"abs{i}",
            when=f"2026-03-1{i}T09:00:00+08:00",
            staff="E2",
            code=FindingCode.ABSENT_FROM_POST,
            unit="unit-a",
        )
        for i in (1, 2)
    ]
    late_in_a = [
        finding(event_id=f"late{day}", when=f"2026-03-0{day}T08:40:00+08:00", unit="unit-a")
        for day in (2, 3, 4, 6)
    ]
    arrives_late_in_b = finding(event_id="late5", when="2026-03-05T08:40:00+08:00", unit="unit-b")
    store = InMemoryStore(tz=policy.tz)

    asyncio.run(project(store, batch_of(*absences, *late_in_a), policy))
    before = {
        a.unit_id: a.status
        for a in store.alerts.values()
        if a.rule is AlertRule.ACCUMULATED_WARNINGS
    }
    asyncio.run(project(store, batch_of(arrives_late_in_b), policy))
    after = {
        a.unit_id: a.status
        for a in store.alerts.values()
        if a.rule is AlertRule.ACCUMULATED_WARNINGS
    }

    attendance = [w for w in store.warnings.values() if w.rule is WarningRule.ATTENDANCE]
    assert [w.unit_id for w in attendance] == ["unit-b"], "issued at the 4th finding, in unit-b"
    assert before == {"unit-a": Status.ACTIVE}
    # In event time unit-a never held three warnings: the alert is gone, not revoked
    # (revoked means "held in event time, then overturned").
    assert after == {}
    oracle = evaluate_history(
        filings=(),
        verdicts=(),
        findings=[*absences, *late_in_a, arrives_late_in_b],
        policy=policy,
    )
    assert sorted(store.alerts.values(), key=lambda a: a.id) == list(oracle.alerts)
