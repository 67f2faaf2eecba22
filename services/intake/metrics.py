"""Prometheus metrics, in a registry of their own per app (never the global one)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from operator import attrgetter

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from shared.events import Event

HTTP = "http"
KAFKA = "kafka"

_LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
_SOURCE_AND_TYPE = attrgetter("source", "type")


class IntakeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.accepted = Counter(
            "intake_events_accepted",
            "Events written to events.v1, by channel (http|kafka), source and type.",
            ["channel", "source", "type"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "intake_rejected",
            "RefusedError HTTP requests and dead-lettered raw records, by channel and reason.",
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
        for (source, event_type), count in Tally(map(_SOURCE_AND_TYPE, events)).items():
            self.accepted.labels(channel, source, event_type).inc(count)

    def count_rejected(self, reason: str, *, channel: str, count: int = 1) -> None:
        self.rejected.labels(channel, reason).inc(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
