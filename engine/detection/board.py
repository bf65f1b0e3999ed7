"""Incremental detection: the latest market state plus the signals it implies, re-evaluated per change.

A quote change re-prices only the Kalshi markets mapped to that sportsbook event; an orderbook change
re-prices that market and its Kalshi-only arbitrage group. A vectorised screen (:mod:`.screen`) picks the
markets where a signal may exist, and only those go through the exact rules. Holds state but does no
I/O and reads no clock: the pipeline passes ``now`` with every change.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from engine.detection.detector import DetectionContext, MarketResult, evaluate_group, evaluate_market, rank
from engine.detection.screen import CellCache, GroupScreen, RowQuotes, ScreenArrays, row_may_signal, rows_for_event
from engine.detection.signals import Signal, Skip
from engine.mapping.types import MappingResult
from engine.markets.dedupe import unique_markets, unique_odds_events
from engine.markets.kalshi import KalshiMarket, Orderbook
from engine.markets.odds import OddsEvent

_NO_ASKS = (math.nan, math.nan)


ErrorSink = Callable[[str, BaseException], None]
"""``sink(what, error)``: a market (or a group's tickers) whose evaluation raised; its result is dropped."""


class Board:
    def __init__(
        self,
        markets: Iterable[KalshiMarket],
        mapping: MappingResult,
        ctx: DetectionContext,
        groups: Sequence[Sequence[KalshiMarket]] = (),
        on_error: ErrorSink | None = None,
    ) -> None:
        """``on_error``: when given, one market's (or group's) evaluation error costs that market only: its
        result is dropped and the error reported, and the rest of the pass goes on (a running engine must
        survive one bad market); without it the error propagates."""
        self.ctx = ctx
        self._on_error = on_error
        self.mapping = mapping
        unique = unique_markets(markets)  # a market listed twice must not be priced (and sized) twice
        self.refused = unique.refused
        """Markets listed more than once with different content: none of their copies is priced."""
        self.markets: dict[str, KalshiMarket] = {m.ticker: m for m in unique.items}
        self.books: dict[str, Orderbook] = {}
        self.events: dict[str, OddsEvent] = {}
        self._results: dict[str, MarketResult] = {}
        self._groups = [tuple(g) for g in groups]
        self._group_signals: dict[int, tuple[Signal, ...]] = {}
        self._group_of: dict[str, int] = {m.ticker: i for i, g in enumerate(self._groups) for m in g}
        self._by_event: dict[str, list[str]] = defaultdict(list)
        for ticker, match in mapping.matches.items():
            if ticker in self.markets:
                self._by_event[match.odds_event_id].append(ticker)
        self._arrays = ScreenArrays(list(self.markets), ctx.profile)
        self._group_screen = GroupScreen([[m.ticker for m in g] for g in self._groups], self._arrays)
        self._rows: dict[str, RowQuotes] = {}
        self._dirty: set[str] = set()  # rows changed since the arrays were last written
        self._static: dict[str, tuple[bool, float, bool]] = {}  # priceable, taker rate, pushable
        self._asks: dict[str, tuple[float, float]] = {}
        self._cells: CellCache = {}
        for market in self.markets.values():
            fees = ctx.fees_for(market)
            self._static[market.ticker] = self._arrays.set_market(market, mapping.matches.get(market.ticker), fees)

    def load(self, books: Iterable[Orderbook], events: Iterable[OddsEvent], now: datetime) -> None:
        """Take a full state and evaluate everything once."""
        for book in books:
            if book.ticker in self.markets:
                self.books[book.ticker] = book
                self._asks[book.ticker] = self._arrays.set_book(book)
        odds = unique_odds_events(events)
        for event_id in odds.refused_keys:  # copies that differ: none of them is the event's state
            self.events.pop(event_id, None)
        self.events.update((e.id, e) for e in odds.items)
        for event_id, tickers in self._by_event.items():
            self._set_quotes(self.events.get(event_id), tickers)
        self.reevaluate(now)

    def apply_event(self, event: OddsEvent, now: datetime) -> list[str]:
        """New sportsbook quotes for one event; returns the tickers re-screened."""
        self.events[event.id] = event
        tickers = self._by_event.get(event.id, [])
        self._set_quotes(event, tickers)
        self._screen(tickers, now)
        return tickers

    def apply_orderbook(self, book: Orderbook, now: datetime) -> None:
        if book.ticker not in self.markets:
            return
        self.books[book.ticker] = book
        self._asks[book.ticker] = self._arrays.set_book(book)
        self._screen([book.ticker], now)
        group = self._group_of.get(book.ticker)
        if group is not None:
            self._evaluate_group(group)

    def apply_market(self, market: KalshiMarket, now: datetime) -> None:
        """A lifecycle change (status, strike) of one market."""
        self.markets[market.ticker] = market
        match = self.mapping.matches.get(market.ticker)
        self._static[market.ticker] = self._arrays.set_market(market, match, self.ctx.fees_for(market))
        self._screen([market.ticker], now)
        group = self._group_of.get(market.ticker)
        if group is not None:
            self._groups[group] = tuple(market if m.ticker == market.ticker else m for m in self._groups[group])
            self._evaluate_group(group)

    def reevaluate(self, now: datetime) -> None:
        """Time passing alone changes answers (quotes go stale, games start): screen the whole board."""
        for ticker in self._dirty:
            self._arrays.set_quotes(ticker, self._rows[ticker])
        self._dirty.clear()
        self._results.clear()
        for ticker in self._arrays.candidates(now):
            self._evaluate(ticker, now)
        self._group_signals.clear()
        for index in self._group_screen.candidates():
            self._evaluate_group(index)

    def signals(self) -> tuple[Signal, ...]:
        out: list[Signal] = []
        for result in self._results.values():
            out.extend(result.signals)
        for group in self._group_signals.values():
            out.extend(group)
        return rank(out)

    def signals_for(self, tickers: Iterable[str]) -> tuple[Signal, ...]:
        """The signals these markets own (their own and their Kalshi-only groups'), unranked: what one change
        can have touched, so a caller diffs only that instead of the whole board."""
        out: list[Signal] = []
        groups: set[int] = set()
        for ticker in tickers:
            result = self._results.get(ticker)
            if result is not None:
                out.extend(result.signals)
            group = self._group_of.get(ticker)
            if group is not None:
                groups.add(group)
        for group in sorted(groups):
            out.extend(self._group_signals.get(group, ()))
        return tuple(out)

    def skipped(self) -> tuple[Skip, ...]:
        """Reasons for markets the screen passed but the exact rules did not."""
        return tuple(r.skip for r in self._results.values() if r.skip is not None)

    def explain(self, ticker: str, now: datetime) -> MarketResult:
        """The exact evaluation of one market, with its reason when it gives no signal."""
        return self._exact(ticker, now)

    def _set_quotes(self, event: OddsEvent | None, tickers: Sequence[str]) -> None:
        """Tickers are all mapped to ``event``: their rows are built in one pass over its books. The arrays
        are written lazily, before the next whole-board screen: single changes use the scalar screen."""
        matches = [self.mapping.matches[t] for t in tickers]
        rows = rows_for_event(event, matches, self.ctx.profile, self._cells)
        for ticker, row in zip(tickers, rows, strict=True):
            self._rows[ticker] = row
        self._dirty.update(tickers)

    def _screen(self, tickers: Sequence[str], now: datetime) -> None:
        """The scalar screen for the few rows one change touches, then the exact rules where it passes."""
        t = now.timestamp()
        profile = self.ctx.profile
        for ticker in tickers:
            row = self._rows.get(ticker)
            priceable, rate, pushable = self._static[ticker]
            ask_yes, ask_no = self._asks.get(ticker, _NO_ASKS)
            passes = (
                row is not None
                and priceable
                and row.commence > t
                and row_may_signal(row, ask_yes, ask_no, rate, pushable, profile, t)
            )
            if passes:
                self._evaluate(ticker, now)
            else:
                self._results.pop(ticker, None)

    def _exact(self, ticker: str, now: datetime) -> MarketResult:
        market = self.markets[ticker]
        match = self.mapping.matches.get(ticker)
        event = self.events.get(match.odds_event_id) if match is not None else None
        return evaluate_market(market, self.books.get(ticker), match, event, self.ctx, now)

    def _evaluate(self, ticker: str, now: datetime) -> None:
        try:
            result = self._exact(ticker, now)
        except Exception as exc:
            if self._on_error is None:
                raise
            self._results.pop(ticker, None)
            self._on_error(ticker, exc)
            return
        if result.signals or result.skip is not None:
            self._results[ticker] = result
        else:
            self._results.pop(ticker, None)

    def _evaluate_group(self, index: int) -> None:
        try:
            self._group_signals[index] = evaluate_group(self._groups[index], self.books, self.ctx)
        except Exception as exc:
            if self._on_error is None:
                raise
            self._group_signals.pop(index, None)
            self._on_error(",".join(m.ticker for m in self._groups[index]), exc)
