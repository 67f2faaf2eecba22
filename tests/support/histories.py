"""Hypothesis strategies for event histories dense enough that the rules interact:
few units, staff and complaint ids, so that verdicts overturn, attendance piles up
and collective warnings and leadership accountability appear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypedDict, TypeVar

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
    CommendationRecordedData,
    ComplaintFiled,
    ComplaintFiledData,
    ComplaintResolved,
    ComplaintResolvedData,
    Event,
    FindingData,
    InspectionRecorded,
    InspectionRecordedData,
)

UNITS = ("qsb/licensing", "qsb/metrology", "taxi/fleet-1")
STAFF = ("E1", "E2", "E3", "E4")
COMPLAINTS = ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6")
SOURCES = ("hotline-95598", "inspection-app")
START = datetime(2025, 12, 20, tzinfo=UTC)
OFFSETS = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))
# Inspection codes weighted towards the ones rules count.
CODES = (
    FindingCode.LATE_ARRIVAL,
    FindingCode.EARLY_LEAVE,
    FindingCode.LATE_ARRIVAL,
    FindingCode.ABSENT_FROM_POST,
    FindingCode.CHATTING_ON_DUTY,
    FindingCode.SMOKING,
    FindingCode.PASSENGER_DUMPING,
)

ids = st.integers(min_value=0, max_value=10**6).map(lambda n: f"e-{n}")
sources = st.sampled_from(SOURCES)
units = st.sampled_from(UNITS)
maybe_staff = st.none() | st.sampled_from(STAFF)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    # Mostly minutes apart, across a month boundary and a year boundary.
    minutes = draw(st.integers(min_value=0, max_value=60 * 24 * 75))
    when = START + timedelta(minutes=minutes)
    return when.astimezone(draw(st.sampled_from(OFFSETS)))


class _Envelope(TypedDict):
    id: str
    source: str
    occurred_at: datetime
    unit_id: str
    staff_id: str | None


def _envelope(draw: st.DrawFn, *, source: str | None = None) -> _Envelope:
    """An event's id, source (drawn unless given), instant, unit and staff member."""
    return _Envelope(
        id=draw(ids),
        source=source or draw(sources),
        occurred_at=draw(instants()),
        unit_id=draw(units),
        staff_id=draw(maybe_staff),
    )


@st.composite
def complaint_filed(draw: st.DrawFn) -> Event:
    return ComplaintFiled(
        type="complaint.filed",
        **_envelope(draw),
        data=ComplaintFiledData(
            complaint_id=draw(st.sampled_from(COMPLAINTS)),
            channel=draw(st.sampled_from(Channel)),
            category=draw(st.sampled_from(Category)),
            handling=draw(st.sampled_from(Handling)),
            summary="投诉",
        ),
    )


@st.composite
def complaint_resolved(draw: st.DrawFn) -> Event:
    return ComplaintResolved(
        type="complaint.resolved",
        **_envelope(draw),
        data=ComplaintResolvedData(
            complaint_id=draw(st.sampled_from(COMPLAINTS)),
            outcome=draw(st.sampled_from((*Outcome, Outcome.SUBSTANTIATED, Outcome.SUBSTANTIATED))),
            category=draw(st.none() | st.sampled_from(Category)),
            obstructed=draw(st.booleans()),
        ),
    )


@st.composite
def inspection(draw: st.DrawFn) -> Event:
    findings = draw(
        st.lists(
            st.builds(
                FindingData,
                code=st.sampled_from(CODES),
                staff_id=maybe_staff,
                unit_wide=st.sampled_from((False, False, False, True)),
                note=st.none(),
            ),
            max_size=3,
        )
    )
    return InspectionRecorded(
        id=draw(ids),
        type="inspection.recorded",
        source="inspection-app",
        occurred_at=draw(instants()),
        unit_id=draw(units),
        staff_id=None,
        data=InspectionRecordedData(
            inspection_id=draw(ids),
            mode=draw(st.sampled_from(InspectionMode)),
            inspector="督查组",
            findings=findings,
        ),
    )


@st.composite
def commendation(draw: st.DrawFn) -> Event:
    return CommendationRecorded(
        type="commendation.recorded",
        **_envelope(draw, source="hr-awards"),
        data=CommendationRecordedData(
            commendation_id=draw(ids),
            kind=draw(st.sampled_from(CommendationKind)),
            summary="拾金不昧",
        ),
    )


def _distinct(events: list[Event]) -> list[Event]:
    """One event per (source, id): the contract's identity."""
    return list({event.key: event for event in events}.values())


_Complaint = TypeVar("_Complaint", ComplaintFiled, ComplaintResolved)


def _about(event: _Complaint, complaint_id: str, **update: Any) -> _Complaint:
    """`event` about complaint `complaint_id` (and with `update`'s fields)."""
    data = event.data.model_copy(update={"complaint_id": complaint_id})
    return event.model_copy(update={**update, "data": data})


def _near(base: datetime, minutes: int, offset: timezone) -> datetime:
    return (base + timedelta(minutes=minutes)).astimezone(offset)


@st.composite
def attendance_burst(draw: st.DrawFn) -> list[Event]:
    """Several clock-ins of one person around one month (3 vs 4 is the edge)."""
    staff = draw(st.sampled_from(STAFF))
    base = draw(instants())
    count = draw(st.integers(min_value=2, max_value=6))
    return [
        InspectionRecorded(
            id=draw(ids),
            type="inspection.recorded",
            source="attendance",
            occurred_at=_near(
                base, draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)), draw(st.sampled_from(OFFSETS))
            ),
            unit_id=draw(st.sampled_from(UNITS[:2])),
            data=InspectionRecordedData(
                inspection_id=draw(ids),
                mode=InspectionMode.SYSTEM,
                inspector="clock",
                findings=[
                    FindingData(
                        code=draw(
                            st.sampled_from((FindingCode.LATE_ARRIVAL, FindingCode.EARLY_LEAVE))
                        ),
                        staff_id=staff,
                    )
                ],
            ),
        )
        for _ in range(count)
    ]


@st.composite
def complaint_case(draw: st.DrawFn) -> list[Event]:
    """A filing (sometimes twice) and 0-3 verdicts: upheld, overturned, reassigned."""
    complaint_id = draw(st.sampled_from(COMPLAINTS))
    filed = draw(complaint_filed())
    assert isinstance(filed, ComplaintFiled)
    filed = _about(filed, complaint_id)
    events: list[Event] = [filed]
    if draw(st.booleans()):
        refiled = draw(complaint_filed())
        assert isinstance(refiled, ComplaintFiled)
        events.append(_about(refiled, complaint_id))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        verdict = draw(complaint_resolved())
        assert isinstance(verdict, ComplaintResolved)
        unit = filed.unit_id if draw(st.booleans()) else verdict.unit_id
        events.append(_about(verdict, complaint_id, unit_id=unit))
    return events


@st.composite
def absence_cluster(draw: st.DrawFn) -> list[Event]:
    """Absences in one unit within a year: collective warnings at the 3rd and 6th."""
    unit = draw(units)
    return [
        InspectionRecorded(
            id=draw(ids),
            type="inspection.recorded",
            source="inspection-app",
            occurred_at=draw(instants()),
            unit_id=unit,
            data=InspectionRecordedData(
                inspection_id=draw(ids),
                mode=draw(st.sampled_from(InspectionMode)),
                inspector="督查组",
                findings=[
                    FindingData(
                        code=draw(
                            st.sampled_from(
                                (FindingCode.ABSENT_FROM_POST, FindingCode.CHATTING_ON_DUTY)
                            )
                        ),
                        staff_id=draw(st.sampled_from(STAFF)),
                        unit_wide=draw(st.sampled_from((False, False, False, True))),
                    )
                ],
            ),
        )
        for _ in range(draw(st.integers(min_value=1, max_value=4)))
    ]


single = st.one_of(complaint_filed(), complaint_resolved(), inspection(), commendation()).map(
    lambda event: [event]
)

histories = st.lists(
    st.one_of(single, attendance_burst(), complaint_case(), complaint_case(), absence_cluster()),
    min_size=1,
    max_size=12,
).map(lambda stories: _distinct([event for story in stories for event in story]))
