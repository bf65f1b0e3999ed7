"""Saying, once and loudly, what happened to the mapping overrides file after a mapping pass.

A refused edit (a misspelt key, a ticker paired twice, broken JSON) must never pass silently: the last good
overrides stay in force, and the operator reads why as an error event, an ERROR log line and a DEGRADED
``mapping_overrides`` health in ``status`` until the file is fixed; a fixed file is announced once.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from engine.mapping.overrides import OverridesFile
from engine.runtime.health import FeedMonitor

log = logging.getLogger(__name__)


class _Reporter(Protocol):
    def monitor(self, name: str, stale_after_s: float) -> FeedMonitor: ...

    def monotonic(self) -> float: ...

    def emit(self, kind: str, message: str, /, **data: Any) -> None: ...


def report_overrides(engine: _Reporter, overrides: OverridesFile, reported: str | None) -> str | None:
    """Report the file's state after a pass; ``reported`` is the error said last time (None: none).
    Returns the error in force now, to pass next time."""
    monitor = engine.monitor("mapping_overrides", float("inf"))
    monitor.degraded_for_s = float("inf")  # degraded for as long as the refused edit is on disk
    error = None if overrides.last_error is None else str(overrides.last_error)
    now = engine.monotonic()
    monitor.connected = True
    if error is not None:
        if error != reported:
            monitor.error(f"{error}; the last good overrides stay in force", now)
            log.error("mapping overrides file %s refused: %s; the last good overrides stay in force",
                      overrides.path, error)  # fmt: skip
            engine.emit("error", f"mapping overrides file {overrides.path} refused: {error}; the last good "
                        "overrides stay in force", file=str(overrides.path), error=error)  # fmt: skip
        return error
    current = overrides.current()
    monitor.last_error_at, monitor.last_error = None, ""
    monitor.message(now)
    if reported is not None:
        engine.emit("mapping", f"mapping overrides file {overrides.path} in force again: {len(current.pairs)} "
                    "pairs", file=str(overrides.path))  # fmt: skip
    return None
