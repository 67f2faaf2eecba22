"""Prometheus metrics, in a registry of their own per app (never the global one)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Collection, Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from shared.events import Event

HTTP = "http"
KAFKA = "kafka"

_LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
OTHER_SOURCE = "other"  # the `source` label of any source no token names


class IntakeMetrics:
    def __init__(self, sources: Collection[str] = ()) -> None:
        """`sources`: the configured ones (named by a token); label values stay bounded:
        any other source (a token with `*` may send for any) is counted as `other`."""
        self._sources = frozenset(sources)
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.accepted = Counter(
            "intake_events_accepted",
            "Events written to events.v1, by channel (http|kafka), source (configured "
            "sources; others as `other`) and type.",
            ["channel", "source", "type"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "intake_rejected",
            "Refused HTTP requests and dead-lettered raw records, by channel and reason.",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.publish_seconds = Histogram(
            "intake_publish_seconds",
            "Time from handing records to the producer until Kafka acknowledged all of them.",
            ["channel"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "intake_batch_size",
            "Events per accepted request (http) or per consumed raw batch (kafka).",
            ["channel"],
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )

    def count_accepted(self, events: Iterable[Event], *, channel: str) -> None:
        labels = Tally(
            (e.source if e.source in self._sources else OTHER_SOURCE, e.type) for e in events
        )
        for (source, event_type), count in labels.items():
            self.accepted.labels(channel, source, event_type).inc(count)

    def count_rejected(self, reason: str, *, channel: str, count: int = 1) -> None:
        self.rejected.labels(channel, reason).inc(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
