"""The token bucket behind 429: burst, refill, Retry-After, one bucket per token."""

from __future__ import annotations

import pytest

from services.intake.entrypoints.http.rate_limit import RateLimiter

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock)

    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    assert limiter.take("a") == 1  # half a second to the next one: rounded up
    clock.now += 0.5
    assert limiter.take("a") is None
    assert limiter.take("a") == 1
    clock.now += 60  # refills to the burst, not beyond
    assert [limiter.take("a") for _ in range(4)] == [None, None, None, 1]


def test_retry_after_is_whole_seconds_to_the_next_request() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=0.1, burst=1, clock=clock)

    assert limiter.take("a") is None
    assert limiter.take("a") == 10
    clock.now += 7.5
    assert limiter.take("a") == 3


def test_tokens_have_buckets_of_their_own() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=Clock())

    assert limiter.take("a") is None
    assert limiter.take("a") == 1
    assert limiter.take("b") is None
