"""Monthly figures (同比、环比), the scorecard (星级服务), awards (评优) and early warnings."""

from __future__ import annotations

import pytest

from services.assessment.domain.figures import award_eligible, pct_change, score_month
from services.assessment.domain.policy import CollectivePolicy, Policy
from services.assessment.domain.watchlist import attendance_on_watch, unit_on_watch
from tests.unit.assessment.domain.builders import default_policy

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("current", "base", "change"),
    [
        (27, 41, -34.1),  # the seed: 41 valid complaints in January, 27 in February
        (68, 170, -60.0),  # the seed: 68 in Jan-Feb, "down 60% year over year"
        (3, 2, 50.0),
        (2, 3, -33.3),
        (0, 5, -100.0),
        (5, 5, 0.0),
        (7, 0, None),  # no base, no change
        (0, 0, None),
    ],
)
def test_pct_change(current: int, base: int, change: float | None) -> None:
    assert pct_change(current, base) == change


@pytest.mark.parametrize(
    ("warnings", "complaints", "findings", "commendations", "expected"),
    [
        (0, 0, 0, 0, (100, 5)),
        (0, 0, 1, 0, (95, 5)),  # 95 is the lowest 5-star score
        (0, 0, 2, 0, (90, 4)),
        (0, 1, 1, 0, (85, 4)),
        (0, 1, 2, 0, (80, 3)),
        (1, 0, 1, 0, (75, 3)),
        (1, 1, 0, 0, (70, 2)),
        (2, 0, 0, 0, (60, 2)),
        (2, 0, 1, 0, (55, 1)),
        (6, 0, 0, 0, (0, 1)),  # kept at 0, not -20
        (0, 0, 0, 3, (100, 5)),  # kept at 100, not 115
        (1, 0, 0, 2, (90, 4)),  # commendations make up for part of a warning
    ],
)
def test_score_month(
    warnings: int, complaints: int, findings: int, commendations: int, expected: tuple[int, int]
) -> None:
    result = score_month(
        warnings=warnings,
        substantiated_complaints=complaints,
        findings=findings,
        commendations=commendations,
        policy=default_policy(),
    )

    assert result == expected


def test_score_counts_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        score_month(
            warnings=-1,
            substantiated_complaints=0,
            findings=0,
            commendations=0,
            policy=default_policy(),
        )


def test_award_needs_a_year_without_an_active_warning() -> None:
    assert award_eligible(0) is True
    assert award_eligible(1) is False


@pytest.mark.parametrize(("count", "watched"), [(0, False), (2, False), (3, True), (4, False)])
def test_attendance_watch_at_exactly_the_limit(count: int, watched: bool) -> None:
    assert attendance_on_watch(count, default_policy()) is watched


@pytest.mark.parametrize(
    ("count", "watched"),
    [(0, False), (1, False), (2, True), (3, False), (4, False), (5, True), (8, True)],
)
def test_unit_watch_one_short_of_the_next_collective(count: int, watched: bool) -> None:
    assert unit_on_watch(count, default_policy()) is watched


def test_unit_watch_follows_the_policy() -> None:
    policy = Policy(version="x", collective=CollectivePolicy(warnings_per_collective=5))

    assert [n for n in range(12) if unit_on_watch(n, policy)] == [4, 9]
