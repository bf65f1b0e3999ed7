"""A bounded queue and a writer thread: how time-series rows leave the engine without ever making it wait.

The event loop only appends a row to a bounded in-memory queue (``put`` is O(1) and never blocks); a daemon
thread drains the queue in batches into a :class:`Backend` (the QuestDB sender, or the local SQLite
history), which batches again and flushes by row count and by interval, never once per row. When the
backend's server is slow or down, the thread waits on it, the queue fills, and rows that do not fit are
dropped and counted; rows lost in a failed flush are counted too. Both counts are in the engine's snapshot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from engine.runtime.snapshot import FeedHealth, FeedState
from engine.timeseries.rows import Row

log = logging.getLogger(__name__)


class RowRefusedError(ValueError):
    """The backend refused one row (a bad name, a value it cannot hold); the rows buffered before it stand."""


class Backend(Protocol):
    """Where the writer thread puts rows. Used from that thread only; may block; raises on failure."""

    def open(self) -> None:
        """Connect or open (called on the writer thread)."""
        ...

    def add(self, row: Row) -> None:
        """Buffer one row; may flush by itself (the QuestDB sender's auto-flush). :class:`RowRefusedError`
        when this row alone is refused; any other error means the buffered rows are lost (see ``discard``)."""
        ...

    def flush(self) -> None:
        """Send every buffered row now."""
        ...

    def pending(self) -> int:
        """Rows buffered and not yet confirmed written."""
        ...

    def discard(self) -> int:
        """After a failure: forget the rows that were buffered and say how many were lost."""
        ...

    def close(self) -> None: ...


class QueuedWriter:
    """Rows in, on the caller's thread; rows out to ``backend`` on a thread of its own.

    ``capacity`` bounds the memory held while the backend is down; ``flush_interval_s`` is the longest a row
    waits in a quiet period (a busy period flushes by the backend's row count first).
    """

    def __init__(
        self,
        name: str,
        backend: Backend,
        *,
        capacity: int = 200_000,
        flush_interval_s: float = 1.0,
        poll_s: float = 0.02,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.backend = backend
        self.capacity = capacity
        self.flush_interval_s = flush_interval_s
        self.poll_s = poll_s
        self.monotonic = monotonic
        self._queue: deque[Row] = deque()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self.queued_dropped = 0
        """Rows refused because the queue was full (the backend slow or down)."""
        self.failed_dropped = 0
        """Rows lost in a flush that failed."""
        self.written = 0
        self.flushes = 0
        self.failures = 0
        self.last_error = ""
        self.last_ok_at: float | None = None
        self.last_error_at: float | None = None
        self.opened = False

    # -- the caller's side -------------------------------------------------------------------------------

    def put(self, row: Row) -> bool:
        """Queue ``row``; False (and counted) when the queue is full. Never blocks, never raises."""
        if len(self._queue) >= self.capacity:
            self.queued_dropped += 1
            return False
        self._queue.append(row)
        return True

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"{self.name}-writer", daemon=True)
            self._thread.start()

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what is queued within ``timeout_s`` (what is left is counted as dropped), then stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("%s writer did not finish within %.1f s; %d rows left", self.name, timeout_s,
                            len(self._queue))  # fmt: skip
                self.queued_dropped += len(self._queue)
            self._thread = None

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until the queue is empty and the backend flushed (tests and the benchmark)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self._queue and self._idle.is_set():
                return True
            time.sleep(0.005)
        return False

    @property
    def dropped(self) -> int:
        return self.queued_dropped + self.failed_dropped

    def health(self) -> FeedHealth:
        now = self.monotonic()
        age = None if self.last_ok_at is None else max(0.0, now - self.last_ok_at)
        recent_error = self.last_error_at is not None and (
            self.last_ok_at is None or self.last_error_at > self.last_ok_at
        )
        if recent_error:
            state = FeedState.DOWN if self.last_ok_at is None or not self.opened else FeedState.DEGRADED
        elif self.last_ok_at is None:
            state = FeedState.STARTING
        else:
            state = FeedState.CONNECTED
        extra = {"rows_written": self.written, "rows_dropped": self.dropped, "queued": len(self._queue)}
        return FeedHealth(self.name, state, age, self.last_error if recent_error else "", extra)

    # -- the writer thread -------------------------------------------------------------------------------

    def _fail(self, what: str, exc: BaseException) -> None:
        lost = 0
        try:
            lost = self.backend.discard()
        except Exception:  # the backend could not even say; count nothing rather than guess
            log.debug("%s: discard failed", self.name, exc_info=True)
        self.failed_dropped += lost
        self.failures += 1
        self.last_error = f"{what}: {exc}"[:300]
        self.last_error_at = self.monotonic()
        if self.failures <= 3 or self.failures % 100 == 0:
            log.warning("%s %s failed (%d rows dropped so far): %s", self.name, what, self.dropped, exc)

    def _flush(self) -> None:
        pending = self.backend.pending()
        try:
            self.backend.flush()
        except Exception as exc:
            self._fail("flush", exc)
            return
        self.written += pending
        self.flushes += 1
        self.last_ok_at = self.monotonic()

    def _open(self) -> bool:
        try:
            self.backend.open()
        except Exception as exc:
            self._fail("connect", exc)
            return False
        self.opened = True
        return True

    def _run(self) -> None:
        last_flush = self.monotonic()
        while not self._open():
            if self._stop.wait(1.0):
                self.queued_dropped += len(self._queue)
                self._queue.clear()
                return
        try:
            while True:
                stopping = self._stop.is_set()
                took = self._drain()
                now = self.monotonic()
                if self.backend.pending() and (stopping or now - last_flush >= self.flush_interval_s):
                    self._flush()
                    last_flush = now
                elif not self.backend.pending():
                    last_flush = now
                if stopping and not self._queue:
                    return
                if not took:
                    self._idle.set()
                    time.sleep(self.poll_s)
        finally:
            try:
                self.backend.close()
            except Exception:
                log.debug("%s: close failed", self.name, exc_info=True)

    def _drain(self) -> int:
        """Move every queued row into the backend; rows the backend flushed by itself count as written."""
        took = 0
        queue = self._queue
        backend = self.backend
        while queue:
            self._idle.clear()
            row = queue.popleft()
            before = backend.pending()
            try:
                backend.add(row)
            except RowRefusedError as exc:
                self.failed_dropped += 1
                self.last_error = f"row refused: {exc}"[:300]
                continue
            except Exception as exc:
                self._fail("write", exc)
                continue
            took += 1
            after = backend.pending()
            if after <= before:  # the backend flushed on its own (row count or interval reached)
                self.written += before + 1 - after
                self.flushes += 1
                self.last_ok_at = self.monotonic()
        return took
