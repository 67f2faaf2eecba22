"""The policy file: the default encodes DOMAIN.md, and a bad file fails naming the field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.assessment.domain.policy import (
    Policy,
    PolicyError,
    default_policy_path,
    load_default_policy,
    load_policy,
    policy_fingerprint,
)
from shared.catalogue import Category, FindingCode, Handling, WarningRule

pytestmark = pytest.mark.unit

DEFAULT_TEXT = default_policy_path().read_text(encoding="utf-8")

# DOMAIN.md, "Complaint categories and the warning rule each leads to", copied row by row.
DOMAIN_CATEGORY_TABLE = {
    "delay": "time_limit",
    "first_inquiry": "first_inquiry",
    "rude_attitude": "rude_attitude",
    "bribery": "bribery",
    "abuse_of_power": "abuse_of_power",
    "retaliation": "retaliation",
    "disclosure": "other_dereliction",
    "ignored_request": "other_dereliction",
    "overcharging": "other_dereliction",
    "refusal": "other_dereliction",
    "detour": "other_dereliction",
    "other": "other_dereliction",
}


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    assert old in DEFAULT_TEXT, old
    return DEFAULT_TEXT.replace(old, new, 1)


def test_default_policy_encodes_the_rulebook() -> None:
    policy = load_default_policy()

    assert policy.version == "2026.1"
    assert policy.time_zone == "Asia/Shanghai"
    assert policy.attendance.codes == {FindingCode.LATE_ARRIVAL, FindingCode.EARLY_LEAVE}
    assert policy.attendance.monthly_limit == 3
    assert policy.absence.codes == {FindingCode.ABSENT_FROM_POST, FindingCode.CHATTING_ON_DUTY}
    assert {c.value: r.value for c, r in policy.complaints.category_rules.items()} == (
        DOMAIN_CATEGORY_TABLE
    )
    assert policy.collective.warnings_per_collective == 3
    assert policy.collective.collectives_for_leadership == 2
    assert policy.time_limits == {Handling.IMMEDIATE: 0, Handling.APPROVAL: 2, Handling.STUDY: 7}
    assert policy.calendar.weekend == {6, 7}


def test_default_calendar_lists_the_official_2025_and_2026_days() -> None:
    calendar = load_default_policy().calendar

    # 8 + 8 + 3 + 5 + 3 + 1 = 28 days off in 2025 (Oct 1-8 with Mid-Autumn); 33 in 2026.
    assert len([d for d in calendar.holidays if d.year == 2025]) == 1 + 8 + 3 + 5 + 3 + 8
    assert len([d for d in calendar.holidays if d.year == 2026]) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert date(2026, 2, 15) in calendar.holidays
    assert date(2026, 2, 23) in calendar.holidays
    assert date(2026, 2, 24) not in calendar.holidays
    assert calendar.workdays == {
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    # Make-up working days are weekend days, or they would change nothing.
    assert all(day.isoweekday() in {6, 7} for day in calendar.workdays)


def test_the_default_path_is_packaged_with_the_module() -> None:
    assert default_policy_path().name == "default.toml"
    assert default_policy_path().is_file()


def test_invalid_toml_is_a_policy_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'version = "2026.1"\n[attendance\n')

    with pytest.raises(PolicyError, match=r"policy\.toml: invalid TOML"):
        load_policy(path)


def test_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"absent\.toml: cannot read"):
        load_policy(tmp_path / "absent.toml")


def test_a_missing_category_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, edited('bribery = "bribery"', ""))

    with pytest.raises(PolicyError) as raised:
        load_policy(path)

    assert str(raised.value) == (f"{path}: complaints.category_rules: missing categories: bribery")


def test_an_unknown_field_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, edited("monthly_limit = 3", "monthly_limit = 3\nmontly_limit = 4"))

    with pytest.raises(PolicyError, match=r"attendance\.montly_limit: Extra inputs"):
        load_policy(path)


def test_an_unknown_code_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, edited('detour = "other_dereliction"', 'detour = "scolding"'))

    with pytest.raises(PolicyError, match=r"complaints\.category_rules\.detour: Input should be"):
        load_policy(path)


def test_a_bad_time_zone_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, edited('"Asia/Shanghai"', '"Mars/Olympus_Mons"'))

    with pytest.raises(PolicyError, match=r"time_zone: unknown time zone: 'Mars/Olympus_Mons'"):
        load_policy(path)


def test_a_day_both_holiday_and_workday_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, edited("2026-01-04, 2026-02-14", "2026-01-04, 2026-02-15"))

    with pytest.raises(PolicyError, match=r"calendar: dates both holiday and workday: 2026-02-15"):
        load_policy(path)


def test_every_handling_needs_a_time_limit(tmp_path: Path) -> None:
    path = write(tmp_path, edited("approval = 2\n", ""))

    with pytest.raises(PolicyError, match=r"time_limits: missing handlings: approval"):
        load_policy(path)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("monthly_limit = 3", "monthly_limit = 0", "attendance.monthly_limit"),
        ("warnings_per_collective = 3", "warnings_per_collective = 0", "collective."),
        ("study = 7", "study = -1", "time_limits.study"),
        ("min_score = 95\nstars = 5", "min_score = 95\nstars = 6", "scorecard.stars.0.stars"),
        ('version = "2026.1"', 'version = ""', "version"),
        ("weekend = [6, 7]", "weekend = [1, 2, 3, 4, 5, 6, 7]", "calendar"),
        ("weekend = [6, 7]", "weekend = [0]", "calendar.weekend"),
    ],
)
def test_out_of_range_values_are_named(tmp_path: Path, old: str, new: str, field: str) -> None:
    path = write(tmp_path, edited(old, new))

    with pytest.raises(PolicyError, match=rf"policy\.toml: {field}"):
        load_policy(path)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = edited("monthly_limit = 3", "monthly_limit = 0").replace("study = 7", "study = -1")
    path = write(tmp_path, text)

    with pytest.raises(PolicyError, match=r"attendance\.monthly_limit: .*; time_limits\.study"):
        load_policy(path)


def test_the_policy_is_immutable() -> None:
    policy = load_default_policy()

    with pytest.raises(ValidationError):
        policy.version = "tampered"  # type: ignore[misc]


def test_fingerprint_depends_on_content_not_layout(tmp_path: Path) -> None:
    reordered = (
        DEFAULT_TEXT.replace(
            'codes = ["late_arrival", "early_leave"]', 'codes = ["early_leave", "late_arrival"]'
        )
        .replace("weekend = [6, 7]", "weekend = [7, 6]  # Sunday and Saturday")
        .replace("# Named on every warning", "# A different comment\n# Named on every warning")
    )
    assert reordered != DEFAULT_TEXT
    original = load_policy(write(tmp_path, DEFAULT_TEXT, "a.toml"))
    same = load_policy(write(tmp_path, reordered, "b.toml"))
    changed = load_policy(write(tmp_path, edited("study = 7", "study = 5"), "c.toml"))

    assert policy_fingerprint(original) == policy_fingerprint(same)
    assert policy_fingerprint(original) != policy_fingerprint(changed)
    assert len(policy_fingerprint(original)) == 16
    int(policy_fingerprint(original), 16)  # hex


def test_star_bands_in_any_order_are_the_same_policy() -> None:
    bands = [{"min_score": 60, "stars": 2}, {"min_score": 95, "stars": 5}]
    reversed_bands = list(reversed(bands))
    first = Policy.model_validate({"version": "x", "scorecard": {"stars": bands}})
    second = Policy.model_validate({"version": "x", "scorecard": {"stars": reversed_bands}})

    assert policy_fingerprint(first) == policy_fingerprint(second)


def test_category_rules_may_be_remapped() -> None:
    rules = {category.value: "other_dereliction" for category in Category}
    policy = Policy.model_validate({"version": "x", "complaints": {"category_rules": rules}})

    assert set(policy.complaints.category_rules.values()) == {WarningRule.OTHER_DERELICTION}
