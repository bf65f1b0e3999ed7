"""How every benchmark figure is taken: a warm-up, then at least five timed repetitions, reported as the
median, the 99th percentile, the minimum and the count, with what the machine was doing at the time.

One sample is not a figure on a shared machine: another process's burst or a garbage collection lands
in it. The median says what a run usually costs, p99 what a bad one costs, the minimum what the code
costs when nothing else intervenes.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

MIN_REPEAT = 5


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of ``samples``."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary(samples: list[float], digits: int = 3) -> dict[str, float]:
    """Median, p99 and minimum of ``samples`` (already in the figure's unit), and how many there were."""
    return {
        "median": round(statistics.median(samples), digits),
        "p99": round(percentile(samples, 0.99), digits),
        "min": round(min(samples), digits),
        "n": len(samples),
    }


def timed(
    run: Callable[[], object],
    repeat: int,
    *,
    warmup: int = 1,
    setup: Callable[[], object] | None = None,
    scale: float = 1e3,
    collector: bool = True,
) -> dict[str, float]:
    """``run`` timed ``repeat`` times (at least :data:`MIN_REPEAT`) after ``warmup`` untimed calls;
    ``setup`` runs untimed before each call. ``scale`` turns seconds into the unit (1e3: ms, 1e6: us).
    ``collector=False`` switches the garbage collector off for the timed calls only."""
    for _ in range(warmup):
        if setup is not None:
            setup()
        run()
    samples: list[float] = []
    was_on = gc.isenabled()
    try:
        for _ in range(max(repeat, MIN_REPEAT)):
            if setup is not None:
                setup()
            if not collector:
                gc.disable()
            start = time.perf_counter()
            run()
            samples.append((time.perf_counter() - start) * scale)
            if was_on:
                gc.enable()
    finally:
        if was_on:
            gc.enable()
    return summary(samples)


def environment() -> dict[str, Any]:
    """When and on what the figures were taken, and how busy the machine was."""
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - platforms without a load average
        load = None
    return {
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "numpy": _numpy_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1_5_15": load,
        "gc_enabled": gc.isenabled(),
        "gc_thresholds": list(gc.get_threshold()),
        "gc_frozen_objects": gc.get_freeze_count(),
        "argv0": os.path.basename(sys.argv[0]) if sys.argv else "",
    }


def _numpy_version() -> str:
    """Imported here, not at the top: ``arbtui`` reads ``MIN_REPEAT`` from this module for every command."""
    import numpy

    return str(numpy.__version__)
