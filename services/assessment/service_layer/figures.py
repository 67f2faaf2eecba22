"""Monthly unit figures (月度考核) and staff scorecards (星级服务) from raw counts."""

from __future__ import annotations

from typing import Any

from services.assessment.domain.figures import award_eligible, pct_change, score_month
from services.assessment.domain.months import months_between, shift_month
from services.assessment.domain.policy import Policy

# metric -> month -> detail ("" when none) -> count, as the read model returns them
Counts = dict[str, dict[str, dict[str, int]]]

# The scalar figures of a month, each with its change on the month before (环比, mom)
# and on the same month a year before (同比, yoy).
SCALARS = (
    "complaints_filed",
    "complaints_substantiated",
    "complaints_unfounded",
    "complaints_withdrawn",
    "complaints_overdue",
    "complaints_resolved_late",
    "inspections",
    "clean_inspections",
    "findings",
    "commendations",
    "warnings",
    "collective_warnings",
)


def _detail(counts: Counts, metric: str, month: str, prefix: str = "") -> dict[str, int]:
    return {
        detail.removeprefix(prefix): n
        for detail, n in counts.get(metric, {}).get(month, {}).items()
        if detail.startswith(prefix)
    }


def _total(counts: Counts, metric: str, month: str) -> int:
    if metric == "complaints_filed":  # stored twice: by category and by channel
        return sum(_detail(counts, metric, month, "category:").values())
    return sum(counts.get(metric, {}).get(month, {}).values())


def base_range(first: str, last: str) -> tuple[str, str]:
    """The months a range's figures need: a year before `first` up to `last`."""
    return shift_month(first, -12), last


def unit_figures(unit_id: str, first: str, last: str, counts: Counts) -> dict[str, Any]:
    months = []
    for month in months_between(first, last):
        totals = {metric: _total(counts, metric, month) for metric in SCALARS}
        change = {
            metric: {
                "mom": pct_change(totals[metric], _total(counts, metric, shift_month(month, -1))),
                "yoy": pct_change(totals[metric], _total(counts, metric, shift_month(month, -12))),
            }
            for metric in SCALARS
        }
        months.append(
            {
                "month": month,
                **totals,
                "complaints_by_category": _detail(counts, "complaints_filed", month, "category:"),
                "complaints_by_channel": _detail(counts, "complaints_filed", month, "channel:"),
                "findings_by_code": _detail(counts, "findings", month),
                "commendations_by_kind": _detail(counts, "commendations", month),
                "warnings_by_rule": _detail(counts, "warnings", month),
                "collective_warnings_by_rule": _detail(counts, "collective_warnings", month),
                "change": change,
            }
        )
    return {"unit_id": unit_id, "from": first, "to": last, "months": months}


def staff_scorecard(staff_id: str, year: int, counts: Counts, policy: Policy) -> dict[str, Any]:
    months: list[dict[str, Any]] = []
    for month in months_between(f"{year:04d}-01", f"{year:04d}-12"):
        warnings = _total(counts, "warnings", month)
        substantiated = _total(counts, "substantiated_complaints", month)
        findings = _total(counts, "findings", month)
        commendations = _total(counts, "commendations", month)
        score, stars = score_month(
            warnings=warnings,
            substantiated_complaints=substantiated,
            findings=findings,
            commendations=commendations,
            policy=policy,
        )
        months.append(
            {
                "month": month,
                "warnings": warnings,
                "substantiated_complaints": substantiated,
                "findings": findings,
                "commendations": commendations,
                "score": score,
                "stars": stars,
            }
        )
    year_warnings = sum(m["warnings"] for m in months)
    return {
        "staff_id": staff_id,
        "year": year,
        "policy_version": policy.version,
        "months": months,
        "totals": {
            key: sum(m[key] for m in months)
            for key in ("warnings", "substantiated_complaints", "findings", "commendations")
        },
        "award_eligible": award_eligible(year_warnings),
    }
