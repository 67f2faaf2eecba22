"""Monthly figures: change on a base period (同比、环比), scorecard (星级服务), awards (评优)."""

from __future__ import annotations

from services.assessment.domain.policy import Policy

_MIN_SCORE, _MAX_SCORE = 0, 100
_LOWEST_STARS = 1


def pct_change(current: int, base: int) -> float | None:
    """Percent change on the base period, one decimal; none when the base is zero."""
    if base == 0:
        return None
    return round((current - base) / base * 100, 1)


def score_month(
    *,
    warnings: int,
    substantiated_complaints: int,
    findings: int,
    commendations: int,
    policy: Policy,
) -> tuple[int, int]:
    """A staff member's (score, stars) for one month."""
    counts = (warnings, substantiated_complaints, findings, commendations)
    if min(counts) < 0:
        raise ValueError(f"counts cannot be negative: {counts}")
    weights = policy.scorecard
    raw = (
        weights.base
        + weights.per_warning * warnings
        + weights.per_substantiated_complaint * substantiated_complaints
        + weights.per_finding * findings
        + weights.per_commendation * commendations
    )
    score = max(_MIN_SCORE, min(_MAX_SCORE, raw))
    return score, stars_for(score, policy)


def stars_for(score: int, policy: Policy) -> int:
    # Bands are kept highest first by the policy.
    for band in policy.scorecard.stars:
        if score >= band.min_score:
            return band.stars
    return _LOWEST_STARS


def award_eligible(active_warnings_in_year: int) -> bool:
    """A service award (评优) in a year needs a year without an active warning."""
    return active_warnings_in_year == 0
