"""Token buckets: refill, capacity, queueing, and the tier table from rate_limits.md."""

from __future__ import annotations

import pytest

from engine.connectors.kalshi.ratelimit import TIERS, AsyncRateLimiter, TokenBucket


def test_bucket_starts_full_and_refills_at_rate() -> None:
    bucket = TokenBucket(rate=100, capacity=100, now=0.0)
    for _ in range(10):
        assert bucket.reserve(10, now=0.0) == 0.0
    assert bucket.reserve(10, now=0.0) == pytest.approx(0.1)
    assert bucket.available(now=0.1) == pytest.approx(0.0)
    assert bucket.available(now=10.0) == 100  # never above capacity


def test_reservations_queue_in_order() -> None:
    bucket = TokenBucket(rate=200, capacity=400, now=0.0)
    waits = [bucket.reserve(10, now=0.0) for _ in range(50)]
    assert waits[:40] == [0.0] * 40
    assert waits[40:] == pytest.approx([0.05 * (i + 1) for i in range(10)])


def test_cost_larger_than_capacity_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=10, capacity=10, now=0).reserve(11, now=0)


def test_basic_tier_matches_docs() -> None:
    basic = TIERS["basic"]
    assert (basic.read_rate, basic.read_capacity, basic.write_rate, basic.write_capacity) == (200, 400, 100, 100)
    assert TIERS["premier"].write_capacity == 2000
    with pytest.raises(ValueError, match="unknown Kalshi tier"):
        AsyncRateLimiter.for_tier("gold")


async def test_async_limiter_sleeps_for_the_deficit() -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    limiter = AsyncRateLimiter(TIERS["basic"], clock=lambda: now[0], sleep=fake_sleep)
    for _ in range(10):
        await limiter.acquire(write=True)
    assert slept == []
    await limiter.acquire(write=True)
    assert slept == [pytest.approx(0.1)]
    await limiter.acquire(write=False)  # the read bucket is independent
    assert len(slept) == 1
