"""The Odds API credit budget: a call that could push today's spend past the configured daily credits (or
past what the venue says is left) is refused before it is sent. Pure: ``now`` is a parameter.

Costs (odds-api-v4.md): ``/sports`` and ``/events`` are free; ``/odds`` costs markets x regions, where a
``bookmakers`` list costs one region per started group of 10 books; ``/scores`` costs 1, or 2 with
``daysFrom``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from engine.connectors.errors import QuotaExceededError


def odds_cost(markets: Sequence[str], regions: Sequence[str], bookmakers: Sequence[str]) -> int:
    groups = math.ceil(len(bookmakers) / 10) if bookmakers else len(regions)
    return max(1, len(markets)) * max(1, groups)


def scores_cost(days_from: int | None) -> int:
    return 2 if days_from else 1


@dataclass(frozen=True, slots=True)
class QuotaState:
    """What the venue reported on the last response (``x-requests-*`` headers)."""

    remaining: int | None = None
    used: int | None = None
    last: int | None = None


class QuotaBudget:
    """Credits the poller may spend per UTC day, and the venue's own count of what is left."""

    def __init__(self, daily_credits: int) -> None:
        if daily_credits < 0:
            raise ValueError("daily credits cannot be negative")
        self.daily_credits = daily_credits
        self._day: date | None = None
        self.spent_today = 0
        self.venue = QuotaState()

    def _roll(self, now: datetime) -> None:
        today = now.date()
        if today != self._day:
            self._day = today
            self.spent_today = 0

    def left_today(self, now: datetime) -> int:
        self._roll(now)
        left = self.daily_credits - self.spent_today
        if self.venue.remaining is not None:
            left = min(left, self.venue.remaining)
        return max(0, left)

    def check(self, cost: int, now: datetime, what: str) -> None:
        """Raise :class:`QuotaExceededError` when ``cost`` does not fit what is left today."""
        left = self.left_today(now)
        if cost > left:
            raise QuotaExceededError(
                f"the odds api call {what} costs {cost} credits but only {left} are left today "
                f"(budget {self.daily_credits}/day, venue remaining {self.venue.remaining})"
            )

    def record(self, estimated: int, state: QuotaState, now: datetime) -> None:
        """Count a completed call: the venue's ``x-requests-last`` when given, else our estimate."""
        self._roll(now)
        self.spent_today += state.last if state.last is not None else estimated
        if state.remaining is not None or state.used is not None:
            self.venue = state
