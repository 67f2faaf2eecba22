"""The assessment policy: every threshold, map, calendar and weight the rules use.

The policy is data (a versioned TOML file), not code: changing the file and replaying
history yields what the new policy would have produced. Loading it is the only I/O here,
and it happens only when `load_policy` is called.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.catalogue import (
    ABSENCE_CODES,
    ATTENDANCE_CODES,
    DEFAULT_CATEGORY_RULES,
    Category,
    FindingCode,
    Handling,
    WarningRule,
)

DEFAULT_TIME_LIMITS: dict[Handling, int] = {
    Handling.IMMEDIATE: 0,
    Handling.APPROVAL: 2,
    Handling.STUDY: 7,
}


class PolicyError(ValueError):
    """A policy file that cannot be read or does not describe a valid policy."""


class AttendancePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    codes: frozenset[FindingCode] = Field(
        default=ATTENDANCE_CODES,
        description="Finding codes counted towards the monthly attendance limit (迟到、早退).",
    )
    monthly_limit: int = Field(
        default=3,
        ge=1,
        description="A staff member with MORE than this many findings in a month is warned.",
    )


class AbsencePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    codes: frozenset[FindingCode] = Field(
        default=ABSENCE_CODES,
        description="Finding codes that each warn the named staff member (擅离岗位、串岗聊天).",
    )


class ComplaintPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category_rules: dict[Category, WarningRule] = Field(
        default_factory=lambda: dict(DEFAULT_CATEGORY_RULES),
        description="The warning rule a substantiated complaint of each category leads to.",
    )

    @field_validator("category_rules")
    @classmethod
    def _covers_every_category(
        cls, rules: dict[Category, WarningRule]
    ) -> dict[Category, WarningRule]:
        missing = [category.value for category in Category if category not in rules]
        if missing:
            raise ValueError(f"missing categories: {', '.join(missing)}")
        return rules


class CollectivePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    warnings_per_collective: int = Field(
        default=3,
        ge=1,
        description="Every this many active warnings of a unit in a year: one collective warning.",
    )
    collectives_for_leadership: int = Field(
        default=2,
        ge=1,
        description="Active collective warnings of a unit in a year making its head accountable.",
    )


class CalendarPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    weekend: frozenset[Annotated[int, Field(ge=1, le=7)]] = Field(
        default=frozenset({6, 7}),
        description="ISO weekdays that are not working days (1 = Monday … 7 = Sunday).",
    )
    holidays: frozenset[date] = Field(
        default=frozenset(), description="Official holidays (not working days)."
    )
    workdays: frozenset[date] = Field(
        default=frozenset(), description="Make-up working days (调休) that fall on a weekend."
    )

    @model_validator(mode="after")
    def _consistent(self) -> CalendarPolicy:
        if len(self.weekend) >= 7:
            # Deadlines count working days; a week without one would never end.
            raise ValueError("weekend must leave at least one working weekday")
        both = sorted(self.holidays & self.workdays)
        if both:
            listed = ", ".join(day.isoformat() for day in both)
            raise ValueError(f"dates both holiday and workday: {listed}")
        return self


class StarBand(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_score: int = Field(description="The lowest score that earns this many stars.")
    stars: int = Field(ge=1, le=5, description="Stars (星级) for a score of at least min_score.")


DEFAULT_STAR_BANDS = [
    StarBand(min_score=95, stars=5),
    StarBand(min_score=85, stars=4),
    StarBand(min_score=75, stars=3),
    StarBand(min_score=60, stars=2),
]


class ScorecardPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base: int = Field(default=100, description="A month's score before any weight is applied.")
    per_warning: int = Field(default=-20, description="Added per individual warning.")
    per_substantiated_complaint: int = Field(
        default=-10, description="Added per substantiated complaint."
    )
    per_finding: int = Field(default=-5, description="Added per inspection finding.")
    per_commendation: int = Field(default=5, description="Added per commendation.")
    stars: list[StarBand] = Field(
        default_factory=lambda: list(DEFAULT_STAR_BANDS),
        description="Score bands; a score below every band earns 1 star.",
    )

    @field_validator("stars")
    @classmethod
    def _distinct_bands(cls, bands: list[StarBand]) -> list[StarBand]:
        scores = [band.min_score for band in bands]
        if len(set(scores)) != len(scores):
            raise ValueError("two bands with the same min_score")
        # Highest band first, so the order in the file does not matter.
        return sorted(bands, key=lambda band: band.min_score, reverse=True)


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(
        min_length=1,
        description="Named on every warning and alert this policy produced.",
        examples=["2026.1"],
    )
    time_zone: str = Field(
        default="Asia/Shanghai",
        description="IANA time zone in which months, years and working days are counted.",
    )
    attendance: AttendancePolicy = Field(
        default_factory=AttendancePolicy, description="The monthly attendance rule."
    )
    absence: AbsencePolicy = Field(
        default_factory=AbsencePolicy, description="The absence-from-post rule."
    )
    complaints: ComplaintPolicy = Field(
        default_factory=ComplaintPolicy, description="Complaint category to warning rule."
    )
    collective: CollectivePolicy = Field(
        default_factory=CollectivePolicy, description="Unit collective warnings and leadership."
    )
    time_limits: dict[Handling, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_TIME_LIMITS),
        description="Working days allowed per handling (限时办结); 0 = by the end of the day.",
    )
    calendar: CalendarPolicy = Field(
        default_factory=CalendarPolicy, description="The working-day calendar."
    )
    scorecard: ScorecardPolicy = Field(
        default_factory=ScorecardPolicy, description="Monthly scorecard weights and stars."
    )

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone: {name!r}") from exc
        return name

    @field_validator("time_limits")
    @classmethod
    def _covers_every_handling(cls, limits: dict[Handling, int]) -> dict[Handling, int]:
        missing = [handling.value for handling in Handling if handling not in limits]
        if missing:
            raise ValueError(f"missing handlings: {', '.join(missing)}")
        return limits

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def default_policy_path() -> Path:
    return Path(__file__).parent.parent / "policies" / "default.toml"


def load_policy(path: Path) -> Policy:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: invalid TOML: {exc}") from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"{path}: {_describe(exc)}") from exc


def load_default_policy() -> Policy:
    return load_policy(default_policy_path())


def _describe(error: ValidationError) -> str:
    problems = []
    for detail in error.errors():
        where = ".".join(str(part) for part in detail["loc"]) or "(top level)"
        reason = detail["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {reason}")
    return "; ".join(problems)


def policy_fingerprint(policy: Policy) -> str:
    """Same content, same fingerprint: sets and maps are written in sorted order."""
    canonical = json.dumps(
        _canonical(policy.model_dump()), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(_canonical(key)): _canonical(item) for key, item in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((_canonical(item) for item in value), key=_sort_key)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
