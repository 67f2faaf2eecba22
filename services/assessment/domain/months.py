"""Calendar-month arithmetic on "YYYY-MM" strings."""

from __future__ import annotations

import re

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> tuple[int, int]:
    match = _MONTH.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a month in YYYY-MM form")
    return int(match.group(1)), int(match.group(2))


def shift_month(month: str, delta: int) -> str:
    year, number = parse_month(month)
    index = year * 12 + (number - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included."""
    year_a, month_a = parse_month(first)
    year_b, month_b = parse_month(last)
    count = (year_b * 12 + month_b) - (year_a * 12 + month_a) + 1
    return [shift_month(first, step) for step in range(max(count, 0))]
