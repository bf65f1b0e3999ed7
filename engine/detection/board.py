"""Incremental detection: the latest market state plus the signals it implies, re-evaluated per change.

The board's state lives in the screen's arrays (:mod:`.screen`), written in place: a quote change
rewrites the cells of the books that moved for the Kalshi markets mapped to that event, an orderbook
change one market's asks. The screen then picks the markets where a signal may exist, and only those go
through the exact rules; their results are kept per market with the row's version and which books were
fresh, the only ways ``now`` enters them, so a re-screen with nothing changed costs no Decimal work.
Holds state but does no I/O and reads no clock: every change comes with its ``now``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from operator import attrgetter

import numpy as np

from engine.clock import micros
from engine.detection.coldbuild import build_all
from engine.detection.columns import QuoteSources, clear_event, write_event
from engine.detection.detector import (
    DetectionContext,
    DetectionResult,
    MarketResult,
    evaluate_group,
    evaluate_market,
    in_range,
    rank,
)
from engine.detection.screen import GroupScreen, ScreenArrays
from engine.detection.signals import Signal, Skip
from engine.mapping.types import MappingResult, MarketMatch
from engine.markets.dedupe import Deduped, unique_markets, unique_odds_events
from engine.markets.kalshi import KalshiMarket, Orderbook
from engine.markets.odds import OddsEvent


def _unique_markets(markets: Iterable[KalshiMarket]) -> Deduped[KalshiMarket]:
    """:func:`unique_markets`, answering at once when no ticker repeats (the usual case)."""
    items = tuple(markets)
    if len({m.ticker for m in items}) == len(items):
        return Deduped(items)
    return unique_markets(items)


def _unique_events(events: Iterable[OddsEvent]) -> Deduped[OddsEvent]:
    """:func:`unique_odds_events`, answering at once when no id repeats (the usual case)."""
    items = tuple(events)
    if len({e.id for e in items}) == len(items):
        return Deduped(items)
    return unique_odds_events(items)


_ticker = attrgetter("ticker")

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
        unique = _unique_markets(markets)  # a market listed twice must not be priced (and sized) twice
        self.refused = unique.refused
        """Markets listed more than once with different content: none of their copies is priced."""
        self.markets: dict[str, KalshiMarket] = {m.ticker: m for m in unique.items}
        self.books: dict[str, Orderbook] = {}
        self.events: dict[str, OddsEvent] = {}
        self._results: dict[str, MarketResult] = {}
        self._groups = [tuple(g) for g in groups]
        self._group_signals: dict[int, tuple[Signal, ...]] = {}
        self._group_of: dict[str, int] = {m.ticker: i for i, g in enumerate(self._groups) for m in g}
        self._ranked: tuple[Signal, ...] | None = None
        tickers = list(self.markets)
        self._tickers = tickers
        matches = mapping.matches
        self._matches: list[MarketMatch | None] = [matches.get(t) for t in tickers]
        self._event_rows: dict[str, list[int]] = {}
        for i, match in enumerate(self._matches):
            if match is not None:
                self._event_rows.setdefault(match.odds_event_id, []).append(i)
        self._arrays = ScreenArrays(tickers, ctx.profile)
        self._arrays.set_markets(unique.items, self._matches, ctx.fees_for)
        self._sources = QuoteSources(len(tickers), len(ctx.profile.books))
        self._group_screen = GroupScreen([list(map(_ticker, g)) for g in self._groups], self._arrays)
        self._exact_cache: dict[str, tuple[int, int, MarketResult]] = {}
        self._now: datetime | None = None
        self._now_us = 0
        self._group_cache: dict[int, tuple[tuple[int, ...], tuple[Signal, ...]]] = {}

    def load(self, books: Iterable[Orderbook], events: Iterable[OddsEvent], now: datetime) -> None:
        """Take a full state and evaluate everything once."""
        markets = self.markets
        held = self.books
        for book in books:
            if book.ticker in markets:
                held[book.ticker] = book
        self._arrays.set_books(held)
        odds = _unique_events(events)
        for event_id in odds.refused_keys:  # copies that differ: none of them is the event's state
            self.events.pop(event_id, None)
        self.events.update((e.id, e) for e in odds.items)
        build_all(self._arrays, self._sources, self._event_rows, self._matches, self.events, self.ctx.profile)
        self.reevaluate(now)

    def apply_event(self, event: OddsEvent, now: datetime) -> list[str]:
        """New sportsbook quotes for one event; returns the tickers re-screened."""
        before = self.events.get(event.id)
        self.events[event.id] = event
        rows = self._event_rows.get(event.id)
        if not rows:
            return []
        same = (
            before is not None and before.commence_time == event.commence_time and before.sport_key == event.sport_key
        )
        write_event(self._arrays, self._sources, event, rows, self._matches, self.ctx.profile, same_event=same)
        self._screen(rows, now)
        return [self._tickers[i] for i in rows]

    def remove_event(self, event_id: str, now: datetime) -> list[str]:
        """The event is no longer listed: its markets lose their quotes; returns the tickers re-screened."""
        self.events.pop(event_id, None)
        rows = self._event_rows.get(event_id)
        if not rows:
            return []
        clear_event(self._arrays, self._sources, rows)
        self._screen(rows, now)
        return [self._tickers[i] for i in rows]

    def apply_orderbook(self, book: Orderbook, now: datetime) -> None:
        i = self._arrays.index.get(book.ticker)
        if i is None:
            return
        self.books[book.ticker] = book
        self._arrays.set_book(i, book)
        self._screen((i,), now)
        group = self._group_of.get(book.ticker)
        if group is not None:
            self._evaluate_group(group)

    def apply_market(self, market: KalshiMarket, now: datetime) -> None:
        """A lifecycle change (status, strike) of one market on the board (others are ignored)."""
        i = self._arrays.index.get(market.ticker)
        if i is None:
            return
        self.markets[market.ticker] = market
        self._arrays.set_market(i, market, self._matches[i], self.ctx.fees_for(market))
        self._screen((i,), now)
        group = self._group_of.get(market.ticker)
        if group is not None:
            self._groups[group] = tuple(market if m.ticker == market.ticker else m for m in self._groups[group])
            self._evaluate_group(group)

    def reevaluate(self, now: datetime) -> None:
        """Time passing alone changes answers (quotes go stale, games start): screen the whole board."""
        self._results.clear()
        self._ranked = None
        tickers = self._tickers
        for i in self._arrays.candidates(self._micros(now)).tolist():
            self._evaluate(tickers[i], now)
        self._group_signals.clear()
        for index in self._group_screen.candidates():
            self._evaluate_group(index)

    def signals(self) -> tuple[Signal, ...]:
        if self._ranked is None:
            out: list[Signal] = []
            for result in self._results.values():
                out.extend(result.signals)
            for group in self._group_signals.values():
                out.extend(group)
            self._ranked = rank(out)
        return self._ranked

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

    def forget_results(self) -> None:
        """Drop the exact results kept for reuse, so the next pass runs the exact rules on every market the
        screen passes (for a caller that swapped the rules themselves, as a test injecting a fault does)."""
        self._exact_cache.clear()
        self._group_cache.clear()

    def explain(self, ticker: str, now: datetime) -> MarketResult:
        """The exact evaluation of one market, with its reason when it gives no signal."""
        return self._exact(ticker, now)

    def result(self, now: datetime) -> DetectionResult:
        """What :func:`engine.detection.detector.detect` returns for this state at ``now``, signals and skip
        reasons alike, with the exact rules run only where the screen passes or a skip reason is possible.

        Every other market has at least ``book_consensus`` fresh books and a screen that rules out every
        signal, so the exact rules would give it neither a signal nor a reason."""
        t_us = self._micros(now)
        arrays = self._arrays
        need = arrays.may_skip(t_us)
        need[arrays.candidates(t_us)] = True
        books = self.books
        tickers = self._tickers
        for i in np.nonzero(~need)[0].tolist():  # the one skip reason the arrays cannot see
            if not in_range(books[tickers[i]]):
                need[i] = True
        signals: list[Signal] = []
        skipped = [Skip(e.ident, e.problem) for e in self.refused]
        for i in np.nonzero(need)[0].tolist():
            result = self._exact(tickers[i], now)
            signals.extend(result.signals)
            if result.skip is not None:
                skipped.append(result.skip)
        for index in self._group_screen.candidates():
            signals.extend(self._group_exact(index))
        return DetectionResult(rank(signals), tuple(skipped))

    def _micros(self, now: datetime) -> int:
        """``micros(now)``, worked out once per instant: a change screens and evaluates several rows at one."""
        if now is not self._now:
            self._now_us = micros(now)
            self._now = now
        return self._now_us

    def _screen(self, rows: Iterable[int], now: datetime) -> None:
        """The scalar screen for the few rows one change touches, then the exact rules where it passes."""
        t_us = self._micros(now)
        arrays = self._arrays
        tickers = self._tickers
        for i in rows:
            if arrays.row_may_signal(i, t_us):
                self._evaluate(tickers[i], now)
            elif tickers[i] in self._results:
                self._ranked = None
                del self._results[tickers[i]]

    def _exact(self, ticker: str, now: datetime) -> MarketResult:
        """The exact rules for one market, reused while its inputs and its set of fresh books are unchanged.

        A result with a skip reason is never reused: its text can quote a stale book's age."""
        arrays = self._arrays
        i = arrays.index[ticker]
        t_us = self._micros(now)
        version = int(arrays.version[i])
        started = arrays.commence_l[i] <= t_us
        fresh = -1 if started else arrays.fresh_key(i, t_us)
        hit = self._exact_cache.get(ticker)
        if hit is not None and hit[0] == version and hit[1] == fresh:
            return hit[2]
        market = self.markets[ticker]
        match = self._matches[i]
        event = self.events.get(match.odds_event_id) if match is not None else None
        result = evaluate_market(market, self.books.get(ticker), match, event, self.ctx, now)
        if result.skip is None and not started:
            self._exact_cache[ticker] = (version, fresh, result)
        return result

    def _evaluate(self, ticker: str, now: datetime) -> None:
        self._ranked = None
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

    def _group_exact(self, index: int) -> tuple[Signal, ...]:
        """Kalshi-only arbitrage depends on the group's markets and books only: reused at the same versions."""
        group = self._groups[index]
        index_of = self._arrays.index
        versions = tuple(int(self._arrays.version[index_of[m.ticker]]) for m in group)
        hit = self._group_cache.get(index)
        if hit is not None and hit[0] == versions:
            return hit[1]
        out = evaluate_group(group, self.books, self.ctx)
        self._group_cache[index] = (versions, out)
        return out

    def _evaluate_group(self, index: int) -> None:
        self._ranked = None
        try:
            self._group_signals[index] = self._group_exact(index)
        except Exception as exc:
            if self._on_error is None:
                raise
            self._group_signals.pop(index, None)
            self._on_error(",".join(m.ticker for m in self._groups[index]), exc)
