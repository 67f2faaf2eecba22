"""Valid events of all four types: small factories and hypothesis strategies.

Everything here is validated through the real contract (`parse_inbound` from JSON
text), so a test that uses it gets events intake would accept. Ids, units, staff and
sources look like the real upstream systems; times fall in 2025-2026, carry assorted
UTC offsets and are never in the future.

    event = complaint_filed(unit_id="taxi/fleet-3", data={"category": "detour"})
    wire = to_wire(event)                     # JSON as an upstream system sends it

    @given(events())
    def test_something(event: Event) -> None: ...
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import strategies as st

from shared.catalogue import (
    Category,
    Channel,
    CommendationKind,
    FindingCode,
    Handling,
    InspectionMode,
    Outcome,
)
from shared.events import (
    CommendationRecorded,
    ComplaintFiled,
    ComplaintResolved,
    Event,
    InspectionRecorded,
    dump_event,
    parse_inbound,
)

SOURCES = ("hotline-95598", "inspection-app", "attendance", "hr-awards", "web.portal")
UNITS = (
    "qsb/licensing",
    "qsb/inspection",
    "qsb/metrology",
    "taxi/fleet-3",
    "taxi/fleet-7",
    "power/branch:east",
    "bank/outlet-12",
)
STAFF = ("E1024", "E2048", "E3301", "D-3301", "D-2718", "P:0042", "qsb.wang_li")
OFFSETS = (
    UTC,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=9)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=-3, minutes=-30)),
)
SUMMARIES = (
    "办事窗口工作人员态度生硬",
    "超过承诺时限仍未办结",
    "首问责任人推诿，让群众多次往返",
    "拾金不昧，归还乘客遗失的钱包",
    "助人为乐，护送迷路老人回家",
    "Refused a short fare at the airport rank",
)
INSPECTORS = ("督查组-王", "督查组-李", "attendance-clock", "暗访组 3")
EARLIEST = datetime(2025, 1, 1, tzinfo=UTC)
LATEST = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
_serial = itertools.count(1)


def latest_allowed() -> datetime:
    """The latest time an event may have: the end of 2026, but never in the future."""
    return min(LATEST, datetime.now(UTC) - timedelta(minutes=1))


def validated(envelope: dict[str, Any]) -> Event:
    """The event a JSON envelope describes, validated as intake validates it."""
    return parse_inbound(orjson.dumps(envelope), received_at=datetime.now(UTC))


def to_wire(event: Event) -> bytes:
    """The event as an upstream system sends it (no recorded_at)."""
    return dump_event(event.model_copy(update={"recorded_at": None}))


def to_json(event: Event) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(to_wire(event))
    return loaded


def next_id(prefix: str) -> str:
    """A fresh, realistic upstream id, e.g. `c-2026-000042`."""
    return f"{prefix}-2026-{next(_serial):06d}"


# Factories: one valid event each; any field can be overridden (`data` is merged,
# None leaves an optional field out).


def _envelope(
    event_type: str, prefix: str, data: dict[str, Any], overrides: dict[str, Any]
) -> Event:
    extra_data = overrides.pop("data", {})
    envelope: dict[str, Any] = {
        "id": next_id(prefix),
        "type": event_type,
        "source": SOURCES[0],
        "occurred_at": "2026-01-05T09:30:00+08:00",
        "unit_id": UNITS[0],
        "staff_id": STAFF[0],
        "data": {**data, **extra_data},
    }
    envelope.update(overrides)
    return validated({k: v for k, v in envelope.items() if v is not None})


def complaint_filed(**overrides: Any) -> ComplaintFiled:
    data = {
        "complaint_id": next_id("Q"),
        "channel": "hotline",
        "category": "rude_attitude",
        "handling": "study",
        "summary": SUMMARIES[0],
    }
    event = _envelope("complaint.filed", "c", data, overrides)
    assert isinstance(event, ComplaintFiled)
    return event


def complaint_resolved(**overrides: Any) -> ComplaintResolved:
    data = {"complaint_id": "Q-2026-000001", "outcome": "substantiated"}
    overrides.setdefault("occurred_at", "2026-01-09T16:00:00+08:00")
    event = _envelope("complaint.resolved", "r", data, overrides)
    assert isinstance(event, ComplaintResolved)
    return event


def inspection_recorded(**overrides: Any) -> InspectionRecorded:
    data = {
        "inspection_id": next_id("INS"),
        "mode": "covert",
        "inspector": INSPECTORS[0],
        "findings": [{"code": "late_arrival", "staff_id": STAFF[0]}],
    }
    overrides.setdefault("source", "inspection-app")
    overrides.setdefault("staff_id", None)
    event = _envelope("inspection.recorded", "i", data, overrides)
    assert isinstance(event, InspectionRecorded)
    return event


def commendation_recorded(**overrides: Any) -> CommendationRecorded:
    data = {"commendation_id": next_id("CM"), "kind": "returned_property", "summary": SUMMARIES[3]}
    overrides.setdefault("source", "hr-awards")
    event = _envelope("commendation.recorded", "g", data, overrides)
    assert isinstance(event, CommendationRecorded)
    return event


# Hypothesis strategies.


def occurred_times(
    *, earliest: datetime = EARLIEST, latest: datetime | None = None
) -> st.SearchStrategy[datetime]:
    """Aware times in [earliest, latest] (default: now at most), with assorted offsets."""
    upper = latest or latest_allowed()
    instants = st.datetimes(
        min_value=earliest.astimezone(UTC).replace(tzinfo=None),
        max_value=upper.astimezone(UTC).replace(tzinfo=None),
    )
    return st.builds(
        lambda instant, offset: instant.replace(tzinfo=UTC).astimezone(offset),
        instants,
        st.sampled_from(OFFSETS),
    )


def ids(prefix: str) -> st.SearchStrategy[str]:
    return st.builds(
        "{}-{}-{:06d}".format,
        st.just(prefix),
        st.sampled_from(["2025", "2026"]),
        st.integers(min_value=1, max_value=999_999),
    )


def texts(max_size: int = 80) -> st.SearchStrategy[str]:
    free = st.text(
        alphabet=st.characters(codec="utf-8"),  # no lone surrogates: not encodable
        min_size=1,
        max_size=max_size,
    )
    return st.one_of(st.sampled_from(SUMMARIES), free)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _codes(enum: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([member.value for member in enum])


def _events_of(event_type: str, prefix: str, data: st.SearchStrategy[Any]) -> Any:
    envelopes = st.fixed_dictionaries(
        {
            "id": ids(prefix),
            "type": st.just(event_type),
            "source": st.sampled_from(SOURCES),
            "occurred_at": occurred_times().map(datetime.isoformat),
            "unit_id": st.sampled_from(UNITS),
            "staff_id": _optional(st.sampled_from(STAFF)),
            "data": data,
        }
    )
    return envelopes.map(lambda e: validated({k: v for k, v in e.items() if v is not None}))


def _without_none(strategy: st.SearchStrategy[dict[str, Any]]) -> Any:
    return strategy.map(lambda d: {k: v for k, v in d.items() if v is not None})


def complaint_filed_events() -> st.SearchStrategy[ComplaintFiled]:
    complainants = _without_none(
        st.fixed_dictionaries(
            {
                "name": _optional(st.sampled_from(["张女士", "李先生", "Ms. Chen"])),
                "phone": _optional(st.from_regex(r"\A1[3-9][0-9]-[0-9]{4}-[0-9]{4}\Z")),
            }
        )
    )
    data = _without_none(
        st.fixed_dictionaries(
            {
                "complaint_id": ids("Q"),
                "channel": _codes(Channel),
                "category": _codes(Category),
                "handling": _optional(_codes(Handling)),
                "summary": texts(),
                "complainant": _optional(complainants),
            }
        )
    )
    result: st.SearchStrategy[ComplaintFiled] = _events_of("complaint.filed", "c", data)
    return result


def complaint_resolved_events() -> st.SearchStrategy[ComplaintResolved]:
    data = _without_none(
        st.fixed_dictionaries(
            {
                "complaint_id": ids("Q"),
                "outcome": _codes(Outcome),
                "category": _optional(_codes(Category)),
                "obstructed": _optional(st.booleans()),
            }
        )
    )
    result: st.SearchStrategy[ComplaintResolved] = _events_of("complaint.resolved", "r", data)
    return result


def inspection_recorded_events() -> st.SearchStrategy[InspectionRecorded]:
    findings = _without_none(
        st.fixed_dictionaries(
            {
                "code": _codes(FindingCode),
                "staff_id": _optional(st.sampled_from(STAFF)),
                "unit_wide": _optional(st.booleans()),
                "note": _optional(texts(40)),
            }
        )
    )
    data = st.fixed_dictionaries(
        {
            "inspection_id": ids("INS"),
            "mode": _codes(InspectionMode),
            "inspector": st.sampled_from(INSPECTORS),
            "findings": st.lists(findings, max_size=5),
        }
    )
    result: st.SearchStrategy[InspectionRecorded] = _events_of("inspection.recorded", "i", data)
    return result


def commendation_recorded_events() -> st.SearchStrategy[CommendationRecorded]:
    data = st.fixed_dictionaries(
        {"commendation_id": ids("CM"), "kind": _codes(CommendationKind), "summary": texts()}
    )
    result: st.SearchStrategy[CommendationRecorded] = _events_of("commendation.recorded", "g", data)
    return result


def events() -> st.SearchStrategy[Event]:
    """Any valid event, of any of the four types."""
    return st.one_of(
        complaint_filed_events(),
        complaint_resolved_events(),
        inspection_recorded_events(),
        commendation_recorded_events(),
    )
