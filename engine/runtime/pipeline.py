"""The detection core of the running engine: the market universe, the incremental ``Board``, and which
signals each change made appear, change or vanish.

No I/O and no clock: every input arrives with its ``now``, so the live engine and a replay of a recording
drive exactly the same code and get the same answers. A market whose evaluation raises is logged with its
ticker, priced as having no signal, and the rest of the board goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.config.profiles import Profile
from engine.detection.board import Board
from engine.detection.detector import DetectionContext
from engine.detection.signals import Signal
from engine.mapping.resolver import winner_groups
from engine.mapping.types import MappingResult
from engine.markets.kalshi import KalshiMarket, Orderbook, SeriesInfo
from engine.markets.odds import OddsEvent

log = logging.getLogger(__name__)

SignalKey = tuple[str, str, str]
ErrorSink = Callable[[str, BaseException], None]


class _GuardedBoard(Board):
    """A :class:`Board` where one market's evaluation error costs that market only (its result is
    dropped and the error reported), never the whole pass or the loop."""

    def __init__(
        self,
        markets: Iterable[KalshiMarket],
        mapping: MappingResult,
        ctx: DetectionContext,
        groups: Sequence[Sequence[KalshiMarket]],
        on_error: ErrorSink,
    ) -> None:
        self._on_error = on_error
        super().__init__(markets, mapping, ctx, groups)

    def _evaluate(self, ticker: str, now: datetime) -> None:
        try:
            super()._evaluate(ticker, now)
        except Exception as exc:
            self._results.pop(ticker, None)
            self._on_error(ticker, exc)

    def _evaluate_group(self, index: int) -> None:
        try:
            super()._evaluate_group(index)
        except Exception as exc:
            self._group_signals.pop(index, None)
            self._on_error(",".join(m.ticker for m in self._groups[index]), exc)


@dataclass(frozen=True, slots=True)
class SignalDiff:
    """What one change did to the live signals (keyed by kind, ticker, side)."""

    appeared: tuple[Signal, ...] = ()
    changed: tuple[Signal, ...] = ()
    gone: tuple[Signal, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.appeared or self.changed or self.gone)


NO_CHANGE = SignalDiff()


@dataclass(slots=True)
class Universe:
    """What discovery and mapping decided: the markets priced, their series and the mapping."""

    markets: tuple[KalshiMarket, ...] = ()
    series: Mapping[str, SeriesInfo] = field(default_factory=dict)
    mapping: MappingResult = field(default_factory=lambda: MappingResult({}))


class Pipeline:
    """Holds the latest books and quotes and re-evaluates only what each change touches."""

    def __init__(self, profile: Profile, bankroll: Decimal, max_position: int, on_error: ErrorSink | None = None):
        self.profile = profile
        self._pending_profile: Profile | None = None
        self.bankroll = bankroll
        self.max_position = max_position
        self.universe = Universe()
        self.books: dict[str, Orderbook] = {}
        self.events: dict[str, OddsEvent] = {}
        self.live: dict[SignalKey, Signal] = {}
        self.first_seen: dict[SignalKey, datetime] = {}
        self.errors = 0
        self._on_error = on_error
        self._board = self._build(now=None)

    # -- universe and profile ---------------------------------------------------------------------------

    def _report(self, ticker: str, exc: BaseException) -> None:
        self.errors += 1
        log.error("evaluation of market %s failed: %s: %s", ticker, type(exc).__name__, exc)
        if self._on_error is not None:
            self._on_error(ticker, exc)

    def _build(self, now: datetime | None) -> _GuardedBoard:
        ctx = DetectionContext(self.profile, self.bankroll, self.max_position, dict(self.universe.series))
        markets = self.universe.markets
        board = _GuardedBoard(markets, self.universe.mapping, ctx, winner_groups(markets), self._report)
        if now is not None:
            board.load(self.books.values(), self.events.values(), now)
        return board

    def set_universe(self, universe: Universe, now: datetime) -> SignalDiff:
        """New markets or a new mapping: the board is rebuilt over the books and quotes already held."""
        self.universe = universe
        known = {m.ticker for m in universe.markets}
        self.books = {t: b for t, b in self.books.items() if t in known}
        self._board = self._build(now)
        return self._diff()

    def set_profile(self, profile: Profile) -> None:
        """Takes effect on the next evaluation (the next change or tick), never mid-pass."""
        self._pending_profile = profile

    def _apply_pending_profile(self, now: datetime) -> None:
        if self._pending_profile is not None:
            self.profile, self._pending_profile = self._pending_profile, None
            self._board = self._build(now)

    @property
    def board(self) -> Board:
        return self._board

    # -- changes ----------------------------------------------------------------------------------------

    def on_book(self, ticker: str, book: Orderbook | None, now: datetime) -> SignalDiff:
        """A book changed; ``None`` means the book is not to be trusted (stale, resyncing): no signal on it."""
        if ticker not in self._board.markets:
            return NO_CHANGE
        self._apply_pending_profile(now)
        if book is None:
            self.books.pop(ticker, None)
            book = Orderbook(ticker)
        else:
            self.books[ticker] = book
        self._guard(ticker, lambda: self._board.apply_orderbook(book, now))
        return self._diff()

    def on_odds(self, events: Iterable[OddsEvent], now: datetime) -> SignalDiff:
        self._apply_pending_profile(now)
        for event in events:
            self.events[event.id] = event
            self._guard(f"odds event {event.id}", lambda e=event: self._board.apply_event(e, now))  # type: ignore[misc]
        return self._diff()

    def on_market(self, market: KalshiMarket, now: datetime) -> SignalDiff:
        """A lifecycle change (paused, closed, strike set) of a market on the board."""
        if market.ticker not in self._board.markets:
            return NO_CHANGE
        self._apply_pending_profile(now)
        self._guard(market.ticker, lambda: self._board.apply_market(market, now))
        return self._diff()

    def tick(self, now: datetime) -> SignalDiff:
        """Time alone changes answers (quotes age, games start): the whole board is screened again."""
        self._apply_pending_profile(now)
        self._guard("the whole board", lambda: self._board.reevaluate(now))
        return self._diff()

    def _guard(self, what: str, step: Callable[[], object]) -> None:
        try:
            step()
        except Exception as exc:  # a bug in one change must not stop the loop
            self._report(what, exc)

    def _diff(self) -> SignalDiff:
        current = {s.key: s for s in self._board.signals()}
        appeared = tuple(s for k, s in current.items() if k not in self.live)
        changed = tuple(s for k, s in current.items() if k in self.live and self.live[k] != s)
        gone = tuple(s for k, s in self.live.items() if k not in current)
        if not (appeared or changed or gone):
            return NO_CHANGE
        self.live = current
        for s in gone:
            self.first_seen.pop(s.key, None)
        return SignalDiff(appeared, changed, gone)

    def note_seen(self, diff: SignalDiff, now: datetime) -> None:
        """Remember when each new signal was first seen (part of its order's ``client_order_id``)."""
        for s in diff.appeared:
            self.first_seen.setdefault(s.key, now)

    def signals(self) -> tuple[Signal, ...]:
        return tuple(self.live.values())
