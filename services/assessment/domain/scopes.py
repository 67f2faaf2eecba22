"""Scope keys: the unit the rules recompute and the database replaces whole.

A warning or alert belongs to exactly one scope; recomputing a scope from its facts
and replacing every stored row of it keeps the projection a function of the facts.
"""

from __future__ import annotations


def complaint_scope(complaint_id: str) -> str:
    return f"complaint:{complaint_id}"


def attendance_scope(staff_id: str, period: str) -> str:
    return f"attendance:{staff_id}:{period}"


def finding_scope(source: str, event_id: str, position: int) -> str:
    return f"finding:{source}:{event_id}:{position}"


def unit_year_scope(unit_id: str, year: int) -> str:
    return f"unit-year:{unit_id}:{year}"
