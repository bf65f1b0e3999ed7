"""The one clock: a pinned clock starts where it is told and runs at real speed, never backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.clock import SYSTEM_CLOCK, PinnedClock

AT = datetime(2026, 12, 1, 23, 10, tzinfo=UTC)


def test_pinned_clock_starts_at_its_instant_and_follows_elapsed_time() -> None:
    ticks = iter([100.0, 100.0, 102.5, 102.5])
    clock = PinnedClock(AT, monotonic=lambda: next(ticks))
    assert clock.now() == AT
    assert clock.now() == AT + timedelta(seconds=2.5)
    assert clock.ms() == int((AT + timedelta(seconds=2.5)).timestamp() * 1000)


def test_pinned_clock_advances_and_normalises_to_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    clock = PinnedClock(datetime(2026, 12, 1, 18, 10, tzinfo=eastern), monotonic=lambda: 0.0)
    assert clock.now() == AT and clock.now().tzinfo is UTC
    clock.advance(timedelta(hours=1))
    assert clock.now() == AT + timedelta(hours=1)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))


def test_pinned_clock_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PinnedClock(datetime(2026, 12, 1, 23, 10))


def test_system_clock_is_aware_utc_and_agrees_with_its_milliseconds() -> None:
    now = SYSTEM_CLOCK.now()
    assert now.tzinfo is UTC
    assert abs(SYSTEM_CLOCK.ms() - now.timestamp() * 1000) < 5_000
