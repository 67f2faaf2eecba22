"""Validated events -> the facts the rules and the figures read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from msgspec import Struct

from services.assessment.domain.facts import (
    ComplaintFiling,
    ComplaintVerdict,
    EventKey,
    Finding,
)
from shared import fast_events as fast
from shared.catalogue import CommendationKind, InspectionMode
from shared.events import (
    CommendationRecorded,
    ComplaintFiled,
    ComplaintResolved,
    Event,
    FindingData,
    InspectionRecorded,
)


class InspectionFact(Struct, frozen=True, gc=False):
    key: EventKey
    inspection_id: str
    unit_id: str
    mode: InspectionMode
    finding_count: int


class CommendationFact(Struct, frozen=True, gc=False):
    key: EventKey
    commendation_id: str
    unit_id: str
    staff_id: str | None
    kind: CommendationKind


@dataclass(slots=True)
class FactBatch:
    filings: list[ComplaintFiling] = field(default_factory=list)
    verdicts: list[ComplaintVerdict] = field(default_factory=list)
    inspections: list[InspectionFact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    commendations: list[CommendationFact] = field(default_factory=list)

    def __len__(self) -> int:
        """Events in the batch (findings ride on their inspection)."""
        return (
            len(self.filings) + len(self.verdicts) + len(self.inspections) + len(self.commendations)
        )


def facts_from_events(events: Iterable[Event | fast.FastEvent]) -> FactBatch:
    """From the pydantic contract's events or from their msgspec twins alike."""
    batch = FactBatch()
    for event in events:
        _add(batch, event)
    return batch


def _findings(
    findings: Sequence[FindingData] | Sequence[fast.FindingData],
) -> Sequence[FindingData | fast.FindingData]:
    return findings


def _add(batch: FactBatch, event: Event | fast.FastEvent) -> None:
    key = EventKey(occurred_at=event.occurred_at, event_id=event.id, source=event.source)
    match event:
        case ComplaintFiled(data=data) | fast.ComplaintFiled(data=data):
            batch.filings.append(
                ComplaintFiling(
                    key=key,
                    complaint_id=data.complaint_id,
                    unit_id=event.unit_id,
                    staff_id=event.staff_id,
                    channel=data.channel,
                    category=data.category,
                    handling=data.handling,
                )
            )
        case ComplaintResolved(data=data) | fast.ComplaintResolved(data=data):
            batch.verdicts.append(
                ComplaintVerdict(
                    key=key,
                    complaint_id=data.complaint_id,
                    unit_id=event.unit_id,
                    staff_id=event.staff_id,
                    outcome=data.outcome,
                    category=data.category,
                    obstructed=data.obstructed,
                )
            )
        case InspectionRecorded(data=data) | fast.InspectionRecorded(data=data):
            batch.inspections.append(
                InspectionFact(
                    key=key,
                    inspection_id=data.inspection_id,
                    unit_id=event.unit_id,
                    mode=data.mode,
                    finding_count=len(data.findings),
                )
            )
            batch.findings.extend(
                Finding(
                    key=key,
                    position=position,
                    inspection_id=data.inspection_id,
                    unit_id=event.unit_id,
                    staff_id=finding.staff_id,
                    code=finding.code,
                    unit_wide=finding.unit_wide,
                )
                for position, finding in enumerate(_findings(data.findings))
            )
        case CommendationRecorded(data=data) | fast.CommendationRecorded(data=data):
            batch.commendations.append(
                CommendationFact(
                    key=key,
                    commendation_id=data.commendation_id,
                    unit_id=event.unit_id,
                    staff_id=event.staff_id,
                    kind=data.kind,
                )
            )
