"""Incremental detection: the latest market state plus the signals it implies, re-evaluated per change.

A quote change re-prices only the Kalshi markets mapped to that sportsbook event; an orderbook change
re-prices that market and its Kalshi-only arbitrage group. Holds state but does no I/O and reads no
clock: the pipeline passes ``now`` with every change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from engine.detection.detector import DetectionContext, MarketResult, evaluate_group, evaluate_market, rank
from engine.detection.signals import Signal, Skip
from engine.mapping.types import MappingResult
from engine.markets.kalshi import KalshiMarket, Orderbook
from engine.markets.odds import OddsEvent


class Board:
    def __init__(
        self,
        markets: Iterable[KalshiMarket],
        mapping: MappingResult,
        ctx: DetectionContext,
        groups: Sequence[Sequence[KalshiMarket]] = (),
    ) -> None:
        self.ctx = ctx
        self.mapping = mapping
        self.markets: dict[str, KalshiMarket] = {m.ticker: m for m in markets}
        self.books: dict[str, Orderbook] = {}
        self.events: dict[str, OddsEvent] = {}
        self._results: dict[str, MarketResult] = {}
        self._group_signals: dict[int, tuple[Signal, ...]] = {}
        self._groups = [tuple(g) for g in groups]
        self._group_of: dict[str, int] = {m.ticker: i for i, g in enumerate(self._groups) for m in g}
        self._by_event: dict[str, list[str]] = defaultdict(list)
        for ticker, match in mapping.matches.items():
            if ticker in self.markets:
                self._by_event[match.odds_event_id].append(ticker)

    def load(self, books: Iterable[Orderbook], events: Iterable[OddsEvent], now: datetime) -> None:
        """Take a full state and evaluate everything once."""
        self.books.update((b.ticker, b) for b in books)
        self.events.update((e.id, e) for e in events)
        for ticker in self.markets:
            self._evaluate(ticker, now)
        for i in range(len(self._groups)):
            self._evaluate_group(i)

    def apply_event(self, event: OddsEvent, now: datetime) -> list[str]:
        """New sportsbook quotes for one event; returns the tickers re-evaluated."""
        self.events[event.id] = event
        tickers = self._by_event.get(event.id, [])
        for ticker in tickers:
            self._evaluate(ticker, now)
        return tickers

    def apply_orderbook(self, book: Orderbook, now: datetime) -> None:
        self.books[book.ticker] = book
        if book.ticker in self.markets:
            self._evaluate(book.ticker, now)
        group = self._group_of.get(book.ticker)
        if group is not None:
            self._evaluate_group(group)

    def apply_market(self, market: KalshiMarket, now: datetime) -> None:
        """A lifecycle change (status, strike) of one market."""
        self.markets[market.ticker] = market
        self._evaluate(market.ticker, now)
        group = self._group_of.get(market.ticker)
        if group is not None:
            self._groups[group] = tuple(market if m.ticker == market.ticker else m for m in self._groups[group])
            self._evaluate_group(group)

    def reevaluate(self, now: datetime) -> None:
        """Time passing alone changes answers (quotes go stale, games start): re-run everything."""
        for ticker in self.markets:
            self._evaluate(ticker, now)

    def signals(self) -> tuple[Signal, ...]:
        out: list[Signal] = []
        for result in self._results.values():
            out.extend(result.signals)
        for group in self._group_signals.values():
            out.extend(group)
        return rank(out)

    def skipped(self) -> tuple[Skip, ...]:
        return tuple(r.skip for r in self._results.values() if r.skip is not None)

    def _evaluate(self, ticker: str, now: datetime) -> None:
        market = self.markets[ticker]
        match = self.mapping.matches.get(ticker)
        event = self.events.get(match.odds_event_id) if match is not None else None
        self._results[ticker] = evaluate_market(market, self.books.get(ticker), match, event, self.ctx, now)

    def _evaluate_group(self, index: int) -> None:
        self._group_signals[index] = evaluate_group(self._groups[index], self.books, self.ctx)
