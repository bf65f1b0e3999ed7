"""Client-side token buckets sized from the Kalshi account tier, so we throttle ourselves before the
exchange answers 429 (rate_limits.md: Basic 200 read / 100 write tokens per second, 10 tokens per call).

:class:`TokenBucket` is pure (``now`` is a parameter); :class:`AsyncRateLimiter` is the thin async shell.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

DEFAULT_COST = 10
BATCH_CANCEL_COST_PER_ORDER = 2


@dataclass(frozen=True, slots=True)
class TierBudget:
    read_rate: float
    read_capacity: float
    write_rate: float
    write_capacity: float


def _budget(read: float, write: float, *, read_seconds: float, write_seconds: float) -> TierBudget:
    return TierBudget(read, read * read_seconds, write, write * write_seconds)


# Basic/Advanced read buckets hold two seconds, higher read tiers one; Basic write holds one, higher two.
TIERS: dict[str, TierBudget] = {
    "basic": _budget(200, 100, read_seconds=2, write_seconds=1),
    "advanced": _budget(300, 300, read_seconds=2, write_seconds=2),
    "expert": _budget(600, 600, read_seconds=1, write_seconds=2),
    "premier": _budget(1000, 1000, read_seconds=1, write_seconds=2),
    "paragon": _budget(2000, 2000, read_seconds=1, write_seconds=2),
    "prime": _budget(4000, 4000, read_seconds=1, write_seconds=2),
    "prestige": _budget(10000, 8000, read_seconds=1, write_seconds=2),
}


class TokenBucket:
    """Refills continuously at ``rate`` tokens/s up to ``capacity``; starts full.

    ``reserve`` always books the tokens and returns how long the caller must wait before sending, so
    concurrent callers queue in arrival order instead of racing for the refill.
    """

    __slots__ = ("_tokens", "_updated", "capacity", "rate")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("token bucket rate and capacity must be positive")
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._updated = now

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now

    def available(self, now: float) -> float:
        self._refill(now)
        return self._tokens

    def reserve(self, cost: float, now: float) -> float:
        """Book ``cost`` tokens; return the seconds to wait (0 when they are already there)."""
        if cost > self.capacity:
            raise ValueError(f"a request costing {cost} tokens can never fit a bucket of {self.capacity}")
        self._refill(now)
        self._tokens -= cost
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class AsyncRateLimiter:
    """Read and write buckets for one account; ``await limiter.acquire(write=..., cost=...)`` before a call."""

    def __init__(
        self,
        budget: TierBudget,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self.read = TokenBucket(budget.read_rate, budget.read_capacity, now)
        self.write = TokenBucket(budget.write_rate, budget.write_capacity, now)

    @classmethod
    def for_tier(cls, tier: str) -> AsyncRateLimiter:
        try:
            return cls(TIERS[tier.lower()])
        except KeyError:
            raise ValueError(f"unknown Kalshi tier {tier!r}; expected one of {', '.join(TIERS)}") from None

    async def acquire(self, *, write: bool, cost: float = DEFAULT_COST) -> float:
        """Wait until the bucket covers ``cost``; returns the seconds waited."""
        bucket = self.write if write else self.read
        wait = bucket.reserve(cost, self._clock())
        if wait > 0:
            await self._sleep(wait)
        return wait
