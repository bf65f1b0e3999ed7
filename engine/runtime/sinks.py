"""Where the engine's data goes besides its own memory: the Redis cache, the QuestDB time series, the local
history. One narrow interface, so the engine knows none of them.

Every method the engine calls on the hot path (``book``, ``odds``, ``signals``, ``fill``, ``status``) must
return at once: a sink only hands the item to its own bounded buffer and its own writer. A sink that is slow
or whose server is down loses rows (counted in ``drops()``, shown in the snapshot) and says so in
``health()``; it never makes the engine wait, so trading goes on from memory whatever happens to storage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from engine.detection.signals import Signal
from engine.execution.model import FillRecord
from engine.markets.kalshi import Orderbook
from engine.markets.odds import OddsEvent
from engine.runtime.snapshot import EngineSnapshot, FeedHealth

log = logging.getLogger(__name__)


class EngineSink(Protocol):
    """A destination for the engine's books, quotes, signals, fills and status. All calls are non-blocking."""

    def book(self, ticker: str, book: Orderbook | None, now: datetime) -> None:
        """A Kalshi book changed (``None``: it is not trusted until resynced)."""
        ...

    def odds(self, sport: str, raw: Sequence[Any], events: Sequence[OddsEvent], now: datetime) -> None:
        """An Odds API response for ``sport``: as served (``raw``) and as parsed (``events``)."""
        ...

    def signals(self, changed: Sequence[Signal], gone: Sequence[Signal], now: datetime) -> None:
        """Signals that appeared or changed, and those that vanished, at ``now``."""
        ...

    def fill(self, fill: FillRecord) -> None:
        """A fill recorded in the store (the store is the book of record; this is a copy)."""
        ...

    def status(self, snapshot: EngineSnapshot) -> None:
        """The engine's latest snapshot (about twice a second)."""
        ...

    def health(self) -> tuple[FeedHealth, ...]:
        """One entry per storage component, shown with the feeds (``degraded`` while its server is down)."""
        ...

    def drops(self) -> dict[str, int]:
        """Rows or updates lost because the component was down or slow, by name; never hidden."""
        ...

    async def start(self) -> None:
        """Start the sink's writer (a task or a thread); returns without waiting for any server."""
        ...

    async def close(self) -> None:
        """Flush what can be flushed within a short time and stop the writer."""
        ...


class NullSink:
    """No storage beyond the engine's memory: what the engine uses when nothing is configured."""

    def book(self, ticker: str, book: Orderbook | None, now: datetime) -> None:
        return None

    def odds(self, sport: str, raw: Sequence[Any], events: Sequence[OddsEvent], now: datetime) -> None:
        return None

    def signals(self, changed: Sequence[Signal], gone: Sequence[Signal], now: datetime) -> None:
        return None

    def fill(self, fill: FillRecord) -> None:
        return None

    def status(self, snapshot: EngineSnapshot) -> None:
        return None

    def health(self) -> tuple[FeedHealth, ...]:
        return ()

    def drops(self) -> dict[str, int]:
        return {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


NULL_SINK = NullSink()


class Sinks:
    """Several sinks as one. A sink that raises is logged and skipped: one broken sink never stops the
    engine or the other sinks (each is supposed never to raise; this is the belt to their braces)."""

    def __init__(self, sinks: Sequence[EngineSink]) -> None:
        self.sinks: tuple[EngineSink, ...] = tuple(sinks)
        self.errors = 0

    def _each(self, what: str, call: Any, *args: Any) -> None:
        for sink in self.sinks:
            try:
                getattr(sink, call)(*args)
            except Exception:
                self.errors += 1
                if self.errors <= 10 or self.errors % 1000 == 0:
                    log.exception("storage sink %s failed on %s", type(sink).__name__, what)

    def book(self, ticker: str, book: Orderbook | None, now: datetime) -> None:
        self._each(f"book {ticker}", "book", ticker, book, now)

    def odds(self, sport: str, raw: Sequence[Any], events: Sequence[OddsEvent], now: datetime) -> None:
        self._each(f"odds {sport}", "odds", sport, raw, events, now)

    def signals(self, changed: Sequence[Signal], gone: Sequence[Signal], now: datetime) -> None:
        self._each("signals", "signals", changed, gone, now)

    def fill(self, fill: FillRecord) -> None:
        self._each(f"fill {fill.fill_id}", "fill", fill)

    def status(self, snapshot: EngineSnapshot) -> None:
        self._each("status", "status", snapshot)

    def health(self) -> tuple[FeedHealth, ...]:
        return tuple(h for sink in self.sinks for h in sink.health())

    def drops(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for sink in self.sinks:
            out.update(sink.drops())
        if self.errors:
            out["sink_errors"] = self.errors
        return out

    async def start(self) -> None:
        for sink in self.sinks:
            await sink.start()

    async def close(self) -> None:
        for sink in self.sinks:
            try:
                await sink.close()
            except Exception:
                log.exception("storage sink %s did not close cleanly", type(sink).__name__)
