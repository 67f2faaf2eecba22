"""Red and yellow cards, drawn in Python: a ranking page shows hundreds, and a template
loop or macro call for each cost more than the rest of the page's rows (the markup is
the same as the templates drew)."""

from __future__ import annotations

from markupsafe import Markup, escape

from services.assessment.entrypoints.http.dashboard.charts import Mark
from services.assessment.entrypoints.http.dashboard.labels import LEVELS

CARDS_BESIDE_A_BAR = 12
RED_ICON = Markup(
    '<span class="card-icon red" title="红牌 red card: leadership accountability 领导责任"></span>'
)
YELLOW_ICON = Markup(
    '<span class="card-icon yellow" title="黄牌 yellow card: collective warning 集体效能告诫">'
    "</span>"
)
_TITLE = {"red": escape(LEVELS["leadership"]), "yellow": escape(LEVELS["collective_warning"])}


def icons(red: int, yellow: int) -> Markup:
    """A card icon per red and per yellow card (a table cell)."""
    shown = RED_ICON * red + YELLOW_ICON * yellow
    return Markup('<span class="cards">') + shown + Markup("</span>\n")


def beside(mark: Mark) -> Markup:
    """The cards of a chart's bar whose data has `red` and `yellow`: red first, at most
    CARDS_BESIDE_A_BAR, in a row after the bar's end."""
    if "red" not in mark.data:
        return Markup()
    colours = ["red"] * int(mark.data["red"]) + ["yellow"] * int(mark.data["yellow"])
    x = mark.x + mark.width + 6
    y, height, unit = mark.y - 1, mark.height + 2, escape(mark.data["unit"])
    rects = "".join(
        f'  <rect class="card card-{colour}" x="{x + index * 11:.1f}" y="{y:.1f}" width="8" '
        f'height="{height:.1f}" data-unit="{unit}"><title>{_TITLE[colour]}</title></rect>\n'
        for index, colour in enumerate(colours[:CARDS_BESIDE_A_BAR])
    )
    # Numbers, the two colours and escaped text only (f-strings: Markup.format is slow).
    return Markup(rects)  # noqa: S704
