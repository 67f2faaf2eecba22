"""Server-side SVG charts: geometry only (the templates draw it). No JavaScript, so the
pages work offline and in any browser; every mark carries its figure in data-* attributes
so that tests (and screen readers, through <title>) can read the numbers back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import ceil, log10


@dataclass(frozen=True, slots=True)
class Mark:
    x: float
    y: float
    width: float
    height: float
    value: float
    label: str
    css: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    marks: list[Mark]
    ticks: list[Tick]  # value axis
    labels: list[Tick]  # category axis
    title: str
    vertical: bool  # values go up (columns) rather than right (rows)


def nice_max(value: float) -> float:
    """The smallest 1/2/5×10^n at or above `value` (at least 1): a readable axis top."""
    if value <= 1:
        return 1
    power = 10 ** int(log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(ceil(value))


def _ticks(top: float, to_position: float, origin: float, *, vertical: bool) -> list[Tick]:
    ticks = []
    for k in range(5):
        value = top * k / 4
        offset = to_position * k / 4
        position = origin - offset if vertical else origin + offset
        ticks.append(Tick(position, f"{value:g}"))
    return ticks


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    value: float
    data: dict[str, str]
    ghost: float | None = None  # the comparison value (e.g. the same month a year before)
    css: str = "bar"


def columns(items: Sequence[Column], *, title: str, height: int = 260) -> Chart:
    """Vertical bars, one slot per item; a lighter bar beside each for its `ghost`."""
    left, bottom, top_pad = 44, 28, 12
    slot = 56 if len(items) <= 12 else 30
    width = left + slot * max(len(items), 1) + 12
    plot = height - bottom - top_pad
    top = nice_max(max([c.value for c in items] + [c.ghost or 0 for c in items] + [0]))
    marks, labels = [], []
    for index, item in enumerate(items):
        x: float = left + index * slot + 6
        bar = (slot - 12) / (2 if any(c.ghost is not None for c in items) else 1)
        if item.ghost is not None:
            h = plot * item.ghost / top
            marks.append(
                Mark(
                    x,
                    top_pad + plot - h,
                    bar,
                    h,
                    item.ghost,
                    f"{item.label} (year before 去年同期): {item.ghost:g}",
                    "ghost",
                )
            )
            x += bar
        h = plot * item.value / top
        marks.append(
            Mark(
                x,
                top_pad + plot - h,
                bar,
                h,
                item.value,
                f"{item.label}: {item.value:g}",
                item.css,
                item.data,
            )
        )
        labels.append(Tick(left + index * slot + slot / 2, item.label))
    ticks = _ticks(top, plot, top_pad + plot, vertical=True)
    return Chart(width, height, marks, ticks, labels, title, vertical=True)


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: float
    data: dict[str, str]
    css: str = "bar"


def rows(items: Sequence[Row], *, title: str, width: int = 720) -> Chart:
    """Horizontal bars, one row per item, labels on the left."""
    left, right, row_height, top_pad = 200, 150, 22, 8  # right: room for the cards
    plot = width - left - right
    top = nice_max(max([r.value for r in items] + [0]))
    marks, labels = [], []
    for index, item in enumerate(items):
        y = top_pad + index * row_height
        w = plot * item.value / top
        marks.append(
            Mark(
                left,
                y + 3,
                w,
                row_height - 6,
                item.value,
                f"{item.label}: {item.value:g}",
                item.css,
                item.data,
            )
        )
        labels.append(Tick(y + row_height / 2, item.label))
    height = top_pad + row_height * max(len(items), 1) + 24
    ticks = _ticks(top, plot, left, vertical=False)
    return Chart(width, height, marks, ticks, labels, title, vertical=False)
