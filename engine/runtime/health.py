"""Per-component health: connected, stale, degraded or down, with the age of the last message.

A feed can fail in ways a "connected" flag hides: the socket stays open but nothing arrives (stale), or
answers come back as 429s and 5xx (degraded), or a polled API stays reachable in name while every call fails
(down). Each component notes what happens to it; :meth:`assess`
turns that into a :class:`FeedHealth` at a given monotonic instant, so the rule is pure and testable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.runtime.snapshot import FeedHealth, FeedState


@dataclass(slots=True)
class FeedMonitor:
    """What one component reports about itself; times are monotonic seconds.

    ``stale_after_s``: silence longer than this while connected reads as STALE. ``degraded_for_s``: how
    long one error (throttling, a 5xx, a resync) keeps the feed DEGRADED after it happened.
    ``down_after_failures``: for a polled API, this many failed calls in a row with no success between reads
    as DOWN: one bad answer is a degraded feed, a run of them means no data is coming at all. ``None`` for a
    stream, whose errors (resyncs) come between messages.
    """

    name: str
    stale_after_s: float
    degraded_for_s: float = 30.0
    down_after_failures: int | None = None
    connected: bool = False
    idle_reason: str = ""
    last_message_at: float | None = None
    last_error_at: float | None = None
    last_error: str = ""
    errors: int = 0
    messages: int = 0
    failures_in_a_row: int = 0

    def message(self, now: float) -> None:
        self.messages += 1
        self.last_message_at = now
        self.failures_in_a_row = 0

    def error(self, detail: str, now: float) -> None:
        self.errors += 1
        self.failures_in_a_row += 1
        self.last_error = detail[:200]
        self.last_error_at = now

    def age(self, now: float) -> float | None:
        return None if self.last_message_at is None else max(0.0, now - self.last_message_at)

    def assess(self, now: float, extra: Mapping[str, Any] | None = None) -> FeedHealth:
        age = self.age(now)
        recent_error = self.last_error_at is not None and now - self.last_error_at <= self.degraded_for_s
        failing = self.down_after_failures is not None and self.failures_in_a_row >= self.down_after_failures
        if self.idle_reason and not recent_error:
            state, detail = FeedState.IDLE, self.idle_reason
        elif not self.connected:
            state = FeedState.DOWN if (self.last_message_at is not None or self.errors) else FeedState.STARTING
            detail = self.last_error
        elif failing:
            state, detail = FeedState.DOWN, f"{self.failures_in_a_row} calls failed in a row: {self.last_error}"
        elif recent_error:
            state, detail = FeedState.DEGRADED, self.last_error
        elif age is None:
            state, detail = FeedState.STARTING, ""
        elif age > self.stale_after_s:
            state, detail = FeedState.STALE, f"silent for {age:.1f}s (limit {self.stale_after_s:g}s)"
        else:
            state, detail = FeedState.CONNECTED, ""
        return FeedHealth(self.name, state, age, detail, dict(extra or {}))
