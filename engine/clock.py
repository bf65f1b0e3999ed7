"""The one place wall time comes from.

Anything that needs "now" (the simulator's board and expiries, request signing, quota days, snapshots)
takes a :class:`Clock` instead of calling ``datetime.now``, so tests can pin the instant and give the same
result at any hour of any day. Pure logic takes ``now`` as an argument and never sees a clock at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
NEVER = -(2**63)
"""An instant before every other (int64's minimum), for what has no usable time."""


def micros(moment: datetime) -> int:
    """Unix time in whole microseconds, exactly: integer ``timedelta`` arithmetic, no float rounding, and
    faster than ``timestamp()``. A naive datetime has no instant, so it is refused."""
    if moment.tzinfo is None:
        raise ValueError(f"naive timestamp {moment.isoformat()}: instants must be timezone-aware")
    return (moment - EPOCH) // _MICROSECOND


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def ms(self) -> int:
        """The current instant as Unix milliseconds (what Kalshi signs and stamps)."""
        ...


class SystemClock:
    """The machine's wall clock: what production and the CLI use."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def ms(self) -> int:
        return time.time_ns() // 1_000_000


class PinnedClock:
    """Starts at a chosen instant and runs at real speed from there.

    Running (rather than frozen) keeps timeouts, expiries and signature windows behaving as they do live;
    ``advance`` jumps ahead for tests that need time to pass quickly.
    """

    def __init__(self, start: datetime, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("a pinned clock needs a timezone-aware start instant")
        self._start = start.astimezone(UTC)
        self._monotonic = monotonic
        self._origin = monotonic()
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return self._start + self._offset + timedelta(seconds=self._monotonic() - self._origin)

    def ms(self) -> int:
        return int(self.now().timestamp() * 1000)

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("a clock does not run backwards")
        self._offset += delta


SYSTEM_CLOCK: Clock = SystemClock()
