"""A token bucket per bearer token: 429 with Retry-After beyond the configured rate.

It counts requests, not events, and is checked right after authentication, before the
body is read: a throttled client then costs almost nothing (no parsing, no
validation), and the work of one request is bounded anyway (1000 events, 4 MiB).
Buckets exist only for configured tokens (an unknown token is a 401 before this), so
their number is bounded by the configuration.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    level: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        *,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> int | None:
        """Spend one request of `key`'s bucket: None when allowed, otherwise the whole
        seconds to wait until one is available again (for Retry-After)."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(level=self._burst, updated=now)
        bucket.level = min(self._burst, bucket.level + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.level >= 1.0:
            bucket.level -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.level) / self._rate))
