"""Unit-year alerts: accumulated warnings (collective) and leadership accountability.

Both are read off a timeline. Each warning (or collective warning) is active over
[issued_at, revoked_at). Walking the +1/-1 changes in time order (at one instant -1
before +1, then by id), the k-th alert is issued when the active count first reaches k
times the threshold, revoked when it falls below, and re-issued when it reaches it again.
So an overturned verdict takes back the collective warning built on it, and the
leadership alert built on that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Protocol

from msgspec import Struct

from services.assessment.domain.calendar import year_of
from services.assessment.domain.facts import distinct
from services.assessment.domain.ids import ALERT_PREFIX, stable_id
from services.assessment.domain.policy import Policy
from services.assessment.domain.results import Alert
from services.assessment.domain.scopes import unit_year_scope
from shared.catalogue import ALERT_LEVELS, AlertRule, Status

# Collective warnings a single event raises; accumulated ones are computed here.
EVENT_COLLECTIVE_RULES = frozenset({AlertRule.OBSTRUCTION, AlertRule.UNIT_WIDE_VIOLATION})

_REMOVE, _ADD = 0, 1  # at one instant, removals go first


class Timed(Protocol):
    """What the timeline reads of a warning (Warning satisfies it; the store may pass a
    lighter row that leaves out the evidence)."""

    @property
    def id(self) -> str: ...
    @property
    def unit_id(self) -> str: ...
    @property
    def issued_at(self) -> datetime: ...
    @property
    def revoked_at(self) -> datetime | None: ...
    @property
    def status(self) -> Status: ...


class TimedCollective(Timed, Protocol):
    """What the timeline reads of an event-raised collective warning (Alert satisfies it)."""

    @property
    def rule(self) -> AlertRule: ...
    @property
    def year(self) -> int: ...


class _Span(Struct, frozen=True, gc=False):
    """One interval in which an item was active; end None = still active."""

    id: str
    start: datetime
    end: datetime | None


@dataclass(slots=True)
class _Activation:
    issued_at: datetime
    evidence: tuple[str, ...]
    revoked_at: datetime | None = None


def evaluate_unit_year(
    unit_id: str,
    year: int,
    warnings: Sequence[Timed],
    collectives: Sequence[TimedCollective],
    policy: Policy,
) -> tuple[Alert, ...]:
    """The accumulated_warnings alerts and the leadership alert (if any) of a unit-year.

    Items of other units or years, and collectives of other rules, are ignored.
    """
    own_warnings = distinct(
        (w for w in warnings if w.unit_id == unit_id and year_of(w.issued_at, policy.tz) == year),
        lambda warning: warning.id,
    )
    own_collectives = distinct(
        (
            alert
            for alert in collectives
            if alert.unit_id == unit_id
            and alert.year == year
            and alert.rule in EVENT_COLLECTIVE_RULES
        ),
        lambda alert: alert.id,
    )
    accumulated = _walk(
        _spans(own_warnings), width=policy.collective.warnings_per_collective, max_level=None
    )
    accumulated_ids = {
        level: stable_id(ALERT_PREFIX, "accumulated", unit_id, year, level) for level in accumulated
    }
    # Leadership sees every interval a collective warning was active, not just its last.
    collective_spans = [
        _Span(accumulated_ids[level], activation.issued_at, activation.revoked_at)
        for level, activations in accumulated.items()
        for activation in activations
    ] + _spans(own_collectives)
    leadership = _walk(
        collective_spans, width=policy.collective.collectives_for_leadership, max_level=1
    )
    alerts = [
        _alert(unit_id, year, AlertRule.ACCUMULATED_WARNINGS, accumulated_ids[level], acts, policy)
        for level, acts in sorted(accumulated.items())
    ]
    if leadership:
        leadership_id = stable_id(ALERT_PREFIX, "leadership", unit_id, year)
        rule = AlertRule.LEADERSHIP_ACCOUNTABILITY
        alerts.append(_alert(unit_id, year, rule, leadership_id, leadership[1], policy))
    return tuple(alerts)


def _spans(items: Iterable[Timed]) -> list[_Span]:
    spans = []
    for item in items:
        end = item.revoked_at if item.status is Status.REVOKED else None
        if item.status is Status.REVOKED and (end is None or end <= item.issued_at):
            continue  # never active for any length of time
        spans.append(_Span(item.id, item.issued_at, end))
    return spans


def _walk(
    spans: Sequence[_Span], *, width: int, max_level: int | None
) -> dict[int, list[_Activation]]:
    """Activations of each level k, where level k needs k * width active items."""
    changes = [(span.start, _ADD, span.id) for span in spans]
    changes += [(span.end, _REMOVE, span.id) for span in spans if span.end is not None]
    active: dict[str, datetime] = {}
    activations: dict[int, list[_Activation]] = {}
    for at, kind, item_id in sorted(changes):
        if kind == _REMOVE:
            level, rest = divmod(len(active), width)
            del active[item_id]
            if rest == 0 and level in activations:
                activations[level][-1].revoked_at = at
            continue
        active[item_id] = at
        level, rest = divmod(len(active), width)
        if rest == 0 and (max_level is None or level <= max_level):
            activations.setdefault(level, []).append(_Activation(at, _latest(active, width)))
    return activations


def _latest(active: dict[str, datetime], count: int) -> tuple[str, ...]:
    """Ids of the `count` most recently issued active items, in time order.

    `active` is filled in (time, id) order by the walk, so its insertion order is
    already that order: the newest are its last keys.
    """
    newest_first = islice(reversed(active), count)
    return tuple(reversed(list(newest_first)))


def _alert(
    unit_id: str,
    year: int,
    rule: AlertRule,
    alert_id: str,
    activations: Sequence[_Activation],
    policy: Policy,
) -> Alert:
    latest = activations[-1]
    return Alert(
        id=alert_id,
        unit_id=unit_id,
        rule=rule,
        level=ALERT_LEVELS[rule],
        year=year,
        issued_at=latest.issued_at,
        evidence=latest.evidence,
        status=Status.ACTIVE if latest.revoked_at is None else Status.REVOKED,
        policy_version=policy.version,
        scope=unit_year_scope(unit_id, year),
        revoked_at=latest.revoked_at,
    )
