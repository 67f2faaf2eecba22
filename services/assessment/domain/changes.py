"""What changed in the live projections, as the change feed tells it (pure).

A change compares what other teams last saw of a warning or alert (`before`, None
when it did not exist) with what the projections hold now (`after`):

- issued: it stands now (active) and did not before (absent or revoked);
- revoked: it stood and no longer does (revoked, or gone from the projections, e.g.
  a stricter policy no longer produces it), or it first appears already revoked;
- reruled: it is in the same state, with other content (time, evidence, rule, unit).

Only what subscribers can see counts: the internal `scope` and the policy version
are not compared (a replay under a new policy version republishes only what the
policy changed; /v1/status names the live policy).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import msgspec.structs
from msgspec import Struct

from services.assessment.domain.results import Alert, Warning
from shared.catalogue import Status

Result = Warning | Alert
ResultKey = tuple[str, str]  # ("warning" | "alert", id)


class ChangeType(StrEnum):
    ISSUED = "issued"
    REVOKED = "revoked"
    RERULED = "reruled"


class Change(Struct, frozen=True):
    change: ChangeType
    item: Result  # as the projections hold it now; for one gone: its last content, revoked
    before: Result | None  # what subscribers last saw (None: nothing)

    @property
    def kind(self) -> str:
        return kind_of(self.item)


def kind_of(item: Result) -> str:
    return "warning" if isinstance(item, Warning) else "alert"


def _substance(item: Result) -> Result:
    """The item without what subscribers are not told about."""
    return msgspec.structs.replace(item, scope="", policy_version="")


def classify(before: Result | None, after: Result | None) -> Change | None:
    """The change from `before` to `after` (the same warning or alert), if any."""
    was_active = before is not None and before.status is Status.ACTIVE
    if after is None:
        if not was_active:
            return None  # never stood, or already told as revoked
        assert before is not None
        gone = msgspec.structs.replace(before, status=Status.REVOKED)
        return Change(ChangeType.REVOKED, gone, before)
    is_active = after.status is Status.ACTIVE
    if is_active and not was_active:
        return Change(ChangeType.ISSUED, after, before)
    if was_active and not is_active:
        return Change(ChangeType.REVOKED, after, before)
    if before is None:  # first seen, already revoked
        return Change(ChangeType.REVOKED, after, None)
    if _substance(before) != _substance(after):
        return Change(ChangeType.RERULED, after, before)
    return None


def diff(before: Iterable[Result], after: Iterable[Result]) -> list[Change]:
    """Every change from one set of warnings and alerts to another (a version switch)."""
    log = ChangeLog()
    log.record(before, after)
    return log.changes()


class ChangeLog:
    """Collects replacements during one transaction: per warning or alert, the first
    `before` seen (the committed state) and the last `after` (what will commit)."""

    def __init__(self) -> None:
        self._before: dict[ResultKey, Result | None] = {}
        self._after: dict[ResultKey, Result | None] = {}

    def record(self, before: Iterable[Result], after: Iterable[Result]) -> None:
        """`after` replaced `before` (both whole: an item of `before` missing from
        `after` is gone)."""
        old = {(kind_of(item), item.id): item for item in before}
        new = {(kind_of(item), item.id): item for item in after}
        for key in old.keys() | new.keys():
            if key not in self._before:
                self._before[key] = old.get(key)
            self._after[key] = new.get(key)

    def changes(self) -> list[Change]:
        """The changes, in a stable order: by kind (warnings first), time, id."""
        found = [
            change
            for key in self._after
            if (change := classify(self._before[key], self._after[key])) is not None
        ]
        return sorted(
            found, key=lambda c: (c.kind != "warning", c.item.issued_at.timestamp(), c.item.id)
        )
