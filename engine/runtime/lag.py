"""Event-loop lag: how late a timer that asked to wake every ``interval_s`` actually wakes.

A blocked loop (a slow evaluation, a synchronous write) delays every coroutine at once; this is the one
number that shows it. The sampler runs as a task; the percentiles are computed only when a snapshot asks.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence

from engine.runtime.snapshot import LagStats

LOOP_GIL_SWITCH_S = 0.001
"""``sys.setswitchinterval`` while an engine runs. Worker threads (parsing, mapping, storage writers, the
demo's simulator) share the GIL with the loop, and the loop must win it back after every select and socket
read: at Python's default of 5 ms each of those waits showed as lag; at 1 ms they mostly vanish."""


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 100]) of ``samples``; 0.0 for none."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class LagMonitor:
    """Keeps the last ``window`` lag samples (milliseconds)."""

    def __init__(
        self, interval_s: float = 0.05, window: int = 1200, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if interval_s <= 0:
            raise ValueError("the lag sampling interval must be positive")
        self.interval_s = interval_s
        self._samples: deque[float] = deque(maxlen=window)
        self._monotonic = monotonic

    def record(self, lag_ms: float) -> None:
        self._samples.append(max(0.0, lag_ms))

    def reset(self) -> None:
        """Forget the samples so far (a measurement window starts now)."""
        self._samples.clear()

    def stats(self) -> LagStats:
        samples = list(self._samples)
        if not samples:
            return LagStats()
        return LagStats(percentile(samples, 50), percentile(samples, 99), max(samples), len(samples))

    async def run(self) -> None:
        while True:
            expected = self._monotonic() + self.interval_s
            await asyncio.sleep(self.interval_s)
            self.record((self._monotonic() - expected) * 1000)
