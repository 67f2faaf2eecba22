"""Early warnings (预警): who is one step short of a warning or a collective warning."""

from __future__ import annotations

from services.assessment.domain.policy import Policy


def attendance_on_watch(count: int, policy: Policy) -> bool:
    """Exactly at the monthly limit: the next late arrival or early leave warns."""
    return count == policy.attendance.monthly_limit


def unit_on_watch(active_warnings_in_year: int, policy: Policy) -> bool:
    """One warning short of the unit's next collective warning."""
    per_collective = policy.collective.warnings_per_collective
    return active_warnings_in_year % per_collective == per_collective - 1
