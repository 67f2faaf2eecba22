"""The consumer's metrics after a folded batch: each partition's position is the newest
offset of the batch in it, whatever order its records came in."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from services.assessment.domain.records import Record
from services.assessment.metrics import ConsumerMetrics, FoldHealth
from services.assessment.service_layer.folding import Folded

pytestmark = pytest.mark.unit


def test_each_partition_shows_the_newest_offset_folded_in_it() -> None:
    registry = CollectorRegistry()
    metrics = ConsumerMetrics(registry, FoldHealth())
    batch = [
        Record("events.v1", partition, offset, None, b"{}")
        for partition, offset in [(0, 5), (1, 9), (0, 7), (0, 6), (1, 3)]
    ]
    metrics.observe(Folded(records=len(batch)), 0.01, batch)
    metrics.observe(Folded(records=1), 0.01, [Record("events.v1", 1, 2, None, b"{}")])

    def position(partition: int) -> float | None:
        labels = {"topic": "events.v1", "partition": str(partition)}
        return registry.get_sample_value("assessment_partition_position", labels)

    assert position(0) == 7
    assert position(1) == 9  # an older record folded later (a redelivery) does not move it back
    assert position(2) is None
