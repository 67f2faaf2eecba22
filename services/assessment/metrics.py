"""Prometheus metrics and fold health of the assessment service (one registry per process).

Names are fixed (the ops dashboard names them): per-partition position, end offset,
lag in records and in seconds (age of the oldest unfolded record); fold failures by
kind, retries, dead letters by reason, conflicting duplicates, seconds since the last
successful fold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from services.assessment.domain.records import Record
from services.assessment.service_layer.folding import Folded

Partition = tuple[str, int]


class FoldHealth:
    """When the fold last succeeded and since when it has been failing."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self.last_success: float | None = None
        self.failing_since: float | None = None
        self.last_error: str | None = None

    def succeeded(self) -> None:
        self.last_success = self._clock()
        self.failing_since = None
        self.last_error = None

    def failed(self, error: BaseException) -> None:
        if self.failing_since is None:
            self.failing_since = self._clock()
        # The kind only: the detail (which may name hosts or SQL) goes to the log.
        self.last_error = type(error).__name__

    def seconds_since_last_fold(self) -> float:
        return self._clock() - (self.last_success or self.started)

    def failing_for(self) -> float:
        return 0.0 if self.failing_since is None else self._clock() - self.failing_since

    def problem(self, threshold_s: float) -> str | None:
        """Why the service is not ready, when the fold has failed for too long."""
        failing = self.failing_for()
        if self.failing_since is None or failing < threshold_s:
            return None
        return "fold_stalled"

    def as_dict(self, threshold_s: float) -> dict[str, object]:
        return {
            "healthy": self.problem(threshold_s) is None,
            "failing_for_seconds": round(self.failing_for(), 1),
            "seconds_since_last_fold": round(self.seconds_since_last_fold(), 1),
            "last_error": self.last_error,
            "stall_threshold_seconds": threshold_s,
        }


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry, health: FoldHealth) -> None:
        self.health = health
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
        # The outbox (dead letters, the change feed): what waits for the relay.
        self.outbox_pending = Gauge(
            "assessment_outbox_pending",
            "Outbox records committed but not yet published to Kafka, by topic",
            ["topic"],
            registry=registry,
        )
        self.outbox_published = Counter(
            "assessment_outbox_published",
            "Outbox records this process published to Kafka",
            registry=registry,
        )
        labels = ["topic", "partition"]
        self.position = Gauge(
            "assessment_partition_position",
            "Offset of the last record folded (or parked), per partition",
            labels,
            registry=registry,
        )
        self.end_offset = Gauge(
            "assessment_partition_end_offset",
            "Offset the next record of the partition will get",
            labels,
            registry=registry,
        )
        self.lag_records = Gauge(
            "assessment_partition_lag_records",
            "Records on the partition not yet folded",
            labels,
            registry=registry,
        )
        self.lag_seconds = Gauge(
            "assessment_partition_lag_seconds",
            "Age of the oldest record of the partition not yet folded (0 when caught up)",
            labels,
            registry=registry,
        )
        self.failures = Counter(
            "assessment_fold_failures_total",
            "Failed fold attempts: transient (the environment; retried) or poison "
            "(content; isolated and parked)",
            ["kind"],
            registry=registry,
        )
        for kind in ("transient", "poison"):
            self.failures.labels(kind)
        self.retries = Counter(
            "assessment_fold_retries_total",
            "Batches retried after a transient failure",
            registry=registry,
        )
        self.rollbacks = Counter(
            "assessment_fold_rollbacks_total",
            "Live fold transactions PostgreSQL rolled back for a conflict with another "
            "instance's (deadlock, serialization failure), run again at once",
            registry=registry,
        )
        self.deadletters = Counter(
            "assessment_deadletters_total",
            "Records of events.v1 parked (dead-lettered), by reason",
            ["reason"],
            registry=registry,
        )
        self.conflicts = Counter(
            "assessment_conflicting_duplicates_total",
            "Copies of a (source, id) with other content than the one that stands",
            registry=registry,
        )
        since = Gauge(
            "assessment_seconds_since_last_fold",
            "Seconds since the last successful fold (since start when none yet)",
            registry=registry,
        )
        since.set_function(health.seconds_since_last_fold)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        # Per partition: (position, since when it has lagged without a record in hand,
        # the oldest timestamp of records in hand).
        self._positions: dict[Partition, int] = {}
        self._outbox_topics: set[tuple[str]] = set()
        self._outbox_published = 0
        self._in_hand: dict[Partition, float] = {}
        self._lag_seen: dict[Partition, tuple[int, float]] = {}

    # -- the fold --------------------------------------------------------------------

    def holding(self, records: Sequence[Record]) -> None:
        """A batch is being folded: its oldest record per partition dates the lag."""
        now = time.time()
        for record in records:
            ts = record.timestamp_ms / 1000 if record.timestamp_ms else now
            key = (record.topic, record.partition)
            self._in_hand[key] = min(self._in_hand.get(key, ts), ts)

    def observe(self, folded: Folded, seconds: float, records: Sequence[Record]) -> None:
        self.health.succeeded()
        self.records.labels("folded").inc(folded.new_events)
        self.records.labels("duplicate").inc(folded.events - folded.new_events)
        self.records.labels("skipped").inc(folded.skipped)
        self.records.labels("poison").inc(folded.poison)
        for reason, count in folded.parked.items():
            self.deadletters.labels(reason).inc(count)
        self.conflicts.inc(folded.conflicts)
        self.batch_seconds.observe(seconds)
        self.batch_size.observe(folded.records)
        newest: dict[tuple[str, int], int] = {}  # a gauge set per partition, not per record
        for record in records:
            key = (record.topic, record.partition)
            if record.offset > newest.get(key, -1):
                newest[key] = record.offset
        for key, offset in newest.items():
            self._in_hand.pop(key, None)
            if offset > self._positions.get(key, -1):
                self._positions[key] = offset
                self.position.labels(*_labels(key)).set(offset)

    def transient_failure(self, error: BaseException) -> None:
        self.health.failed(error)
        self.failures.labels("transient").inc()
        self.retries.inc()

    def poison_failure(self) -> None:
        self.failures.labels("poison").inc()

    def rolled_back(self) -> None:
        self.rollbacks.inc()

    # -- sampling (every few seconds) ------------------------------------------------

    def sample_outbox(self, pending: dict[str, int], published: int) -> None:
        """Pending records per topic (topics not named have none) and the relay's
        running total of published records."""
        for (topic,) in list(self._outbox_topics):
            if topic not in pending:
                self.outbox_pending.labels(topic).set(0)
        for topic, count in pending.items():
            self._outbox_topics.add((topic,))
            self.outbox_pending.labels(topic).set(count)
        if published > self._outbox_published:
            self.outbox_published.inc(published - self._outbox_published)
            self._outbox_published = published

    def sample(self, topic: str, stored: dict[int, int] | None, ends: dict[int, int]) -> None:
        """Lag from the stored positions (None: the database did not answer; the
        last positions folded stand) and the topic's end offsets."""
        now = time.time()
        for partition, end in ends.items():
            key = (topic, partition)
            if stored is not None and partition in stored:
                self._positions[key] = max(self._positions.get(key, -1), stored[partition])
            position = self._positions.get(key, -1)
            lag = max(0, end - (position + 1))
            labels = _labels(key)
            self.position.labels(*labels).set(position)
            self.end_offset.labels(*labels).set(end)
            self.lag_records.labels(*labels).set(lag)
            self.lag_seconds.labels(*labels).set(self._age(key, position, lag, now))

    def _age(self, key: Partition, position: int, lag: int, now: float) -> float:
        if lag == 0:
            self._lag_seen.pop(key, None)
            return 0.0
        if key in self._in_hand:
            return max(0.0, now - self._in_hand[key])
        # Nothing in hand (no consumer, or between batches): the lag's age is at
        # least the time the partition has stood at this position with records after.
        seen_position, since = self._lag_seen.get(key, (position, now))
        if seen_position != position:
            since = now
        self._lag_seen[key] = (position, since)
        return now - since


def _labels(key: Partition) -> tuple[str, str]:
    return (key[0], str(key[1]))
