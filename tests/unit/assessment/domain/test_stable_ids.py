"""Deterministic ids: the same history gives the same ids, under any policy."""

from __future__ import annotations

import hashlib

import pytest

from services.assessment.domain.complaints import evaluate_complaint
from services.assessment.domain.ids import stable_id
from services.assessment.domain.policy import ComplaintPolicy, Policy
from shared.catalogue import Category, WarningRule
from tests.unit.assessment.domain.builders import default_policy, filing, verdict

pytestmark = pytest.mark.unit


def test_stable_id_format() -> None:
    expected = hashlib.sha256(b"complaint\x1fc1\x1fE1").hexdigest()[:24]

    assert stable_id("W", "complaint", "c1", "E1") == f"W-{expected}"


def test_parts_are_separated_so_they_cannot_run_together() -> None:
    assert stable_id("A", "ab", "c") != stable_id("A", "a", "bc")
    assert stable_id("A", "unit", 2026, 1) == stable_id("A", "unit", "2026", "1")


def test_ids_do_not_depend_on_the_policy() -> None:
    other_rules = dict.fromkeys(Category, WarningRule.OTHER_DERELICTION)
    what_if = Policy(version="what-if", complaints=ComplaintPolicy(category_rules=other_rules))

    default = evaluate_complaint("c1", [filing()], [verdict()], default_policy())
    replayed = evaluate_complaint("c1", [filing()], [verdict()], what_if)

    assert [w.id for w in default.warnings] == [w.id for w in replayed.warnings]
    assert [w.rule for w in default.warnings] != [w.rule for w in replayed.warnings]
    assert [w.policy_version for w in replayed.warnings] == ["what-if"]
