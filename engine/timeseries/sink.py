"""The engine's time-series sink: books, quotes, fair values, signals and fills become rows on a
:class:`~engine.timeseries.writer.QueuedWriter` (QuestDB, or the local history when QuestDB is not set).

The conversion runs on the event loop, but it is a handful of dict builds per change; everything that can
wait on a server runs on the writer's thread. A row the conversion refuses (a price that is not a whole
number of millionths) is counted and skipped, never raised into the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from engine.detection.signals import Signal
from engine.execution.model import FillRecord
from engine.markets.kalshi import Orderbook
from engine.markets.odds import OddsEvent
from engine.runtime.snapshot import EngineSnapshot, FeedHealth
from engine.timeseries.rows import Row, book_row, fill_row, odds_rows, signal_rows
from engine.timeseries.writer import QueuedWriter

log = logging.getLogger(__name__)


class TimeSeriesSink:
    """:class:`~engine.runtime.sinks.EngineSink` writing rows through ``writer``."""

    def __init__(self, writer: QueuedWriter, *, close_timeout_s: float = 5.0) -> None:
        self.writer = writer
        self.refused = 0
        self.close_timeout_s = close_timeout_s

    def _put(self, rows: Iterable[Row] | Row) -> None:
        try:
            if isinstance(rows, Row):
                self.writer.put(rows)
            else:
                for row in rows:
                    self.writer.put(row)
        except (ValueError, ArithmeticError) as exc:
            self.refused += 1
            if self.refused <= 5:
                log.warning("%s: a row was refused: %s", self.writer.name, exc)

    def book(self, ticker: str, book: Orderbook | None, now: datetime) -> None:
        self._put(_lazy(book_row, ticker, book, now))

    def odds(self, sport: str, raw: Sequence[Any], events: Sequence[OddsEvent], now: datetime) -> None:
        self._put(odds_rows(sport, events, now))

    def signals(self, changed: Sequence[Signal], gone: Sequence[Signal], now: datetime) -> None:
        self._put(signal_rows(changed, gone, now))

    def fill(self, fill: FillRecord) -> None:
        self._put(_lazy(fill_row, fill))

    def status(self, snapshot: EngineSnapshot) -> None:
        return None

    def health(self) -> tuple[FeedHealth, ...]:
        return (self.writer.health(),)

    def drops(self) -> dict[str, int]:
        dropped = self.writer.dropped + self.refused
        return {f"{self.writer.name}_rows": dropped} if dropped else {}

    async def start(self) -> None:
        self.writer.start()

    async def close(self) -> None:
        await asyncio.to_thread(self.writer.close, self.close_timeout_s)


def _lazy(make: Any, *args: Any) -> Iterable[Row]:
    """One row built inside ``_put``'s guard, so a refusal is counted there like any other."""
    yield make(*args)
