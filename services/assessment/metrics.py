"""Prometheus metrics of the assessment service (one registry per process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from services.assessment.service_layer.folding import Folded


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.records = Counter(
            "assessment_records_total",
            "Records of events.v1 handled, by outcome",
            ["outcome"],  # folded | duplicate | skipped | poison
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "assessment_batch_seconds",
            "Time to fold one batch, transaction included",
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.batch_size = Histogram(
            "assessment_batch_records",
            "Records per folded batch",
            registry=registry,
            buckets=(1, 10, 50, 100, 500, 1000, 5000, 20000),
        )

    def observe(self, folded: Folded, seconds: float) -> None:
        self.records.labels("folded").inc(folded.new_events)
        self.records.labels("duplicate").inc(folded.events - folded.new_events)
        self.records.labels("skipped").inc(folded.skipped)
        self.records.labels("poison").inc(folded.poison)
        self.batch_seconds.observe(seconds)
        self.batch_size.observe(folded.records)
