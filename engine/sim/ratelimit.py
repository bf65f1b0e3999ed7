"""Token buckets as Kalshi meters them: continuous refill up to a capacity, a request needs its full cost.

Pure: the caller passes ``now`` (monotonic seconds).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    rate: float
    capacity: float
    tokens: float = -1.0
    updated: float = 0.0

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.capacity <= 0:
            raise ValueError("token bucket rate and capacity must be positive")
        if self.tokens < 0:
            self.tokens = self.capacity

    def take(self, cost: float, now: float) -> bool:
        """Spend ``cost`` tokens if the bucket holds them; otherwise spend nothing and refuse."""
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.tokens + 1e-9 >= cost:  # refill arithmetic is float; never refuse by a rounding error
            self.tokens -= cost
            return True
        return False
