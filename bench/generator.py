"""Synthetic but realistic event histories, deterministic for a seed.

Shape (per 100 events, roughly): 72 inspections — mostly the attendance clock, some
open/covert checks of taxis and offices —, 12 complaint filings, 9 verdicts (some
re-examined and overturned, some obstructed), 7 commendations. Units have a handful
of staff; a few staff are habitually late, so attendance warnings, collective
warnings and leadership accountability all occur. A bigger history has more units
(`units_for`), not more warnings per unit: a unit gets a few dozen warnings a year.
Events are plain dicts in the contract's wire form, so that millions can be produced
quickly; tests validate a sample against the contract.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

CATEGORIES = (
    "delay", "first_inquiry", "rude_attitude", "bribery", "abuse_of_power", "retaliation",
    "disclosure", "ignored_request", "overcharging", "refusal", "detour", "other",
)  # fmt: skip
CHANNELS = ("phone", "letter", "visit", "referral", "hotline", "web", "other")
HANDLING = ("immediate", "approval", "study", "study")
ROAD_CODES = (
    "passenger_dumping", "unauthorised_carpool", "detour", "refusal", "smoking",
    "phone_while_driving", "no_seatbelt", "untidy", "no_receipt", "overcharging",
)  # fmt: skip
OFFICE_CODES = ("absent_from_post", "chatting_on_duty", "untidy", "other")
KINDS = ("returned_property", "helped_others", "bravery", "service_award", "other")
START = datetime(2025, 1, 1, tzinfo=UTC)


class Generator:
    def __init__(self, *, seed: int = 7, units: int = 60, staff_per_unit: int = 8) -> None:
        self._random = random.Random(seed)
        self._units = [f"unit-{n:03d}" for n in range(units)]
        self._staff = {
            unit: [f"{unit}-s{k:02d}" for k in range(staff_per_unit)] for unit in self._units
        }
        # In about two units of three, the first staff member is habitually late.
        self._late = {self._staff[unit][0] for unit in self._units if self._random.random() < 0.66}
        self._open: list[dict[str, Any]] = []  # filed complaints awaiting a verdict
        self._resolved: list[dict[str, Any]] = []  # verdicts that may be re-examined
        self._count = 0

    def events(self, n: int, *, span_days: int = 640) -> Iterator[dict[str, Any]]:
        step = timedelta(days=span_days) / max(n, 1)
        for index in range(n):
            when = START + step * index + timedelta(seconds=self._random.randint(0, 3600))
            yield self._next(when)

    def _next(self, when: datetime) -> dict[str, Any]:
        self._count += 1
        roll = self._random.random()
        if roll < 0.72:
            return self._inspection(when)
        if roll < 0.84:
            return self._filing(when)
        if roll < 0.93 and (self._open or self._resolved):
            return self._verdict(when)
        return self._commendation(when)

    def _envelope(self, kind: str, source: str, when: datetime, unit: str) -> dict[str, Any]:
        offset = timedelta(hours=8) if self._random.random() < 0.8 else timedelta(0)
        local = when.astimezone(UTC).replace(tzinfo=None) + offset
        stamp = local.isoformat(timespec="seconds") + ("+08:00" if offset else "Z")
        return {
            "id": f"{kind[:3]}-{self._count:09d}",
            "type": kind,
            "source": source,
            "occurred_at": stamp,
            "unit_id": unit,
        }

    def _inspection(self, when: datetime) -> dict[str, Any]:
        unit = self._random.choice(self._units)
        staff = self._staff[unit]
        mode = self._random.choices(("system", "open", "covert"), (8, 1, 1))[0]
        findings: list[dict[str, Any]] = []
        if mode == "system":
            for person in self._random.sample(staff, 2):
                late = person in self._late and self._random.random() < 0.5
                if late or self._random.random() < 0.04:
                    code = self._random.choice(("late_arrival", "late_arrival", "early_leave"))
                    findings.append({"code": code, "staff_id": person})
        elif self._random.random() < 0.3:
            codes = ROAD_CODES if unit.endswith(("0", "1", "2")) else OFFICE_CODES
            finding: dict[str, Any] = {
                "code": self._random.choice(codes),
                "staff_id": self._random.choice(staff),
            }
            if self._random.random() < 0.03:
                finding["unit_wide"] = True
            findings.append(finding)
        event = self._envelope("inspection.recorded", "inspection-app", when, unit)
        if mode == "system":
            event["source"] = "attendance"
        event["data"] = {
            "inspection_id": f"I{self._count:09d}",
            "mode": mode,
            "inspector": "clock" if mode == "system" else "督查组",
            "findings": findings,
        }
        return event

    def _filing(self, when: datetime) -> dict[str, Any]:
        unit = self._random.choice(self._units)
        event = self._envelope("complaint.filed", "hotline-95598", when, unit)
        if self._random.random() < 0.7:
            event["staff_id"] = self._random.choice(self._staff[unit])
        event["data"] = {
            "complaint_id": f"Q{self._count:09d}",
            "channel": self._random.choice(CHANNELS),
            "category": self._random.choice(CATEGORIES),
            "handling": self._random.choice(HANDLING),
            "summary": "投诉",
            "complainant": {"name": "匿名", "phone": "138-0000-0000"},
        }
        self._open.append(event)
        if len(self._open) > 500:  # some are never resolved: they go overdue
            self._open.pop(0)
        return event

    def _verdict(self, when: datetime) -> dict[str, Any]:
        reexamine = self._resolved and (not self._open or self._random.random() < 0.1)
        filed = (
            self._random.choice(self._resolved)
            if reexamine
            else self._open.pop(self._random.randrange(len(self._open)))
        )
        event = self._envelope("complaint.resolved", "case-system", when, filed["unit_id"])
        outcome = self._random.choices(("substantiated", "unfounded", "withdrawn"), (4, 5, 1))[0]
        event["data"] = {
            "complaint_id": filed["data"]["complaint_id"],
            "outcome": outcome,
            "obstructed": self._random.random() < 0.01,
        }
        if self._random.random() < 0.1:
            event["data"]["category"] = self._random.choice(CATEGORIES)
        if "staff_id" in filed and self._random.random() < 0.2:
            event["staff_id"] = self._random.choice(self._staff[filed["unit_id"]])
        if not reexamine:
            self._resolved.append(filed)
            if len(self._resolved) > 500:
                self._resolved.pop(0)
        return event

    def _commendation(self, when: datetime) -> dict[str, Any]:
        unit = self._random.choice(self._units)
        event = self._envelope("commendation.recorded", "hr-awards", when, unit)
        event["staff_id"] = self._random.choice(self._staff[unit])
        event["data"] = {
            "commendation_id": f"K{self._count:09d}",
            "kind": self._random.choice(KINDS),
            "summary": "好人好事",
        }
        return event


def units_for(events: int) -> int:
    """Units for a history of this size: about 1,700 events per unit (two years of
    clock-ins, checks and complaints of a unit of eight)."""
    return max(60, events // 1700)


def recorded(event: dict[str, Any], recorded_at: str = "2026-11-01T00:00:00Z") -> dict[str, Any]:
    """The event as events.v1 stores it."""
    return {**event, "recorded_at": recorded_at}
