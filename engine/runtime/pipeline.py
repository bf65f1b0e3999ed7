"""The detection core of the running engine: the market universe, the incremental ``Board``, and which
signals each change made appear, change or vanish.

No I/O and no clock: every input arrives with its ``now``, so the live engine and a replay of a recording
drive exactly the same code and get the same answers. A market whose evaluation raises is logged with its
ticker, priced as having no signal, and the rest of the board goes on (the Board's ``on_error`` hook).

A book or quote change compares only the signals of the markets it touched (``Board.signals_for``), so one
delta costs the same on a board of 20 markets or 2,000. A new market list, mapping or profile needs a new
board: :meth:`begin` copies what the build needs, the engine builds it off the loop
(:mod:`engine.runtime.rebuild`), :meth:`catch_up` replays onto it what changed meanwhile, and
:meth:`install` swaps it in. :meth:`set_universe` does all of it at once for replays and tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.config.profiles import Profile
from engine.detection.board import Board
from engine.detection.detector import rank
from engine.detection.signals import Signal
from engine.mapping.cache import Mapper
from engine.markets.kalshi import KalshiMarket, Orderbook
from engine.markets.odds import OddsEvent
from engine.runtime.rebuild import (
    BoardPlan,
    BuiltBoard,
    Journal,
    RawUniverse,
    Universe,
    build_board,
    forward_errors,
    new_board,
    with_lifecycle,
)

log = logging.getLogger(__name__)

SignalKey = tuple[str, str, str]
ErrorSink = Callable[[str, BaseException], None]

__all__ = ["NO_CHANGE", "Pipeline", "SignalDiff", "SignalKey", "Universe"]


@dataclass(frozen=True, slots=True)
class SignalDiff:
    """What one change did to the live signals (keyed by kind, ticker, side)."""

    appeared: tuple[Signal, ...] = ()
    changed: tuple[Signal, ...] = ()
    gone: tuple[Signal, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.appeared or self.changed or self.gone)


NO_CHANGE = SignalDiff()


def _owners(signal: Signal) -> tuple[str, ...]:
    return signal.tickers or (signal.ticker,)


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
        self._owned: dict[str, set[SignalKey]] = {}
        self._journal: Journal | None = None
        self._lifecycle: dict[str, tuple[int, KalshiMarket]] = {}
        self._lifecycle_seq = 0
        self._board = new_board(self.universe, profile, bankroll, max_position, self._report)

    def _report(self, ticker: str, exc: BaseException) -> None:
        self.errors += 1
        log.error("evaluation of market %s failed: %s: %s", ticker, type(exc).__name__, exc)
        if self._on_error is not None:
            self._on_error(ticker, exc)

    @property
    def board(self) -> Board:
        return self._board

    @property
    def rebuilding(self) -> bool:
        return self._journal is not None

    # -- a new board: begin, build (anywhere), catch up, install ------------------------------------------

    def lifecycle_mark(self) -> int:
        """A position in the stream of lifecycle changes: a market list requested after it is newer than
        every lifecycle change up to it (pass it to :meth:`begin` as ``list_after``)."""
        return self._lifecycle_seq

    def begin(
        self,
        *,
        raw: RawUniverse | None = None,
        universe: Universe | None = None,
        profile: Profile | None = None,
        mapper: Mapper | None = None,
        list_after: int | None = None,
        now: datetime,
    ) -> BoardPlan:
        """Start a rebuild: ``raw`` (a fresh list to parse and map), ``universe`` (markets to map again or,
        with its mapping, to use as is), or neither (the current universe re-mapped). Changes from now on are
        journaled for :meth:`catch_up`. One rebuild at a time."""
        if self._journal is not None:
            raise RuntimeError("a board is already being rebuilt")
        self._journal = Journal()
        base = universe if universe is not None else self.universe
        keep_mapping = universe is not None and raw is None
        return BoardPlan(
            profile=profile or self._pending_profile or self.profile,
            bankroll=self.bankroll,
            max_position=self.max_position,
            books=dict(self.books),
            events=dict(self.events),
            lifecycle={t: m for t, (seq, m) in self._lifecycle.items() if raw is None or seq > (list_after or 0)},
            now=now,
            raw=raw,
            markets=base.markets,
            series=dict(base.series),
            mapping=base.mapping if keep_mapping else None,
            mapper=mapper,
            fresh_list_after=list_after if raw is not None else None,
        )

    def catch_up(self, built: BuiltBoard, limit: int) -> bool:
        """Replay up to ``limit`` journaled changes onto the new board; True when none is left."""
        journal = self._journal
        if journal is None:
            raise RuntimeError("no rebuild in progress")
        books, events, markets = journal.take(limit)
        board, now = built.board, built.plan.now
        for ticker in markets:
            changed = self._lifecycle.get(ticker)
            if changed is not None and ticker in board.markets:
                self._guard(ticker, lambda m=changed[1]: board.apply_market(m, now))  # type: ignore[misc]
        for ticker in books:
            if ticker in board.markets:
                book = self.books.get(ticker) or Orderbook(ticker)
                self._guard(ticker, lambda b=book: board.apply_orderbook(b, now))  # type: ignore[misc]
        for event_id in events:
            event = self.events.get(event_id)
            if event is not None:
                self._guard(f"odds event {event_id}", lambda e=event: board.apply_event(e, now))  # type: ignore[misc]
        return not journal

    def install(self, built: BuiltBoard, now: datetime) -> SignalDiff:
        """Swap the caught-up board in (its profile becomes the profile) and diff the whole board once."""
        if self._journal is None or self._journal:
            raise RuntimeError("install needs a rebuild whose journal has been caught up")
        self._journal = None
        plan = built.plan
        universe = built.universe
        if plan.fresh_list_after is not None:  # a list newer than a lifecycle change is the truth about it
            listed = {m.ticker for m in universe.markets}
            self._lifecycle = {
                t: (seq, m) for t, (seq, m) in self._lifecycle.items() if t in listed and seq > plan.fresh_list_after
            }
        universe.markets = with_lifecycle(universe.markets, {t: m for t, (_, m) in self._lifecycle.items()})
        self.universe = universe
        known = {m.ticker for m in universe.markets}
        self.books = {t: b for t, b in self.books.items() if t in known}
        if self._pending_profile is plan.profile or self._pending_profile == plan.profile:
            self._pending_profile = None
        self.profile = plan.profile
        self._board = built.board
        forward_errors(built, self._report)
        return self._diff_all()

    def abandon(self) -> None:
        """The build failed or was cancelled: the old board stays, changes are no longer journaled."""
        self._journal = None

    def _rebuild_now(self, now: datetime, universe: Universe, profile: Profile | None = None) -> SignalDiff:
        plan = self.begin(universe=universe, profile=profile, now=now)
        built = build_board(plan)
        while not self.catch_up(built, 1 << 30):
            pass
        return self.install(built, now)

    def set_universe(self, universe: Universe, now: datetime) -> SignalDiff:
        """New markets and mapping, at once (replays and tests; the engine builds off the loop)."""
        return self._rebuild_now(now, universe=universe)

    def set_profile(self, profile: Profile) -> None:
        """Takes effect on the next evaluation (the next change or tick), never mid-pass."""
        self._pending_profile = profile

    def _apply_pending_profile(self, now: datetime) -> None:
        if self._pending_profile is not None and self._journal is None:
            self._rebuild_now(now, universe=self.universe, profile=self._pending_profile)

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
        if self._journal is not None:
            self._journal.books.add(ticker)
        self._guard(ticker, lambda: self._board.apply_orderbook(book, now))
        return self._diff_for((ticker,))

    def on_odds(self, events: Iterable[OddsEvent], now: datetime) -> SignalDiff:
        self._apply_pending_profile(now)
        touched: list[str] = []
        for event in events:
            self.events[event.id] = event
            if self._journal is not None:
                self._journal.events.add(event.id)
            self._guard(f"odds event {event.id}", lambda e=event: touched.extend(self._board.apply_event(e, now)))  # type: ignore[misc]
        return self._diff_for(touched)

    def on_market(self, market: KalshiMarket, now: datetime) -> SignalDiff:
        """A lifecycle change (paused, closed, settled, re-dated) of a market on the board: applied at once,
        and kept over any market list that predates it."""
        if market.ticker not in self._board.markets:
            return NO_CHANGE
        self._apply_pending_profile(now)
        self._lifecycle_seq += 1
        self._lifecycle[market.ticker] = (self._lifecycle_seq, market)
        self.universe.markets = tuple(market if m.ticker == market.ticker else m for m in self.universe.markets)
        if self._journal is not None:
            self._journal.markets.add(market.ticker)
        self._guard(market.ticker, lambda: self._board.apply_market(market, now))
        return self._diff_for((market.ticker,))

    def market(self, ticker: str) -> KalshiMarket | None:
        return self._board.markets.get(ticker)

    def tick(self, now: datetime) -> SignalDiff:
        """Time alone changes answers (quotes age, games start): the whole board is screened again."""
        self._apply_pending_profile(now)
        self._guard("the whole board", lambda: self._board.reevaluate(now))
        return self._diff_all()

    def _guard(self, what: str, step: Callable[[], object]) -> None:
        try:
            step()
        except Exception as exc:  # a bug in one change must not stop the loop
            self._report(what, exc)

    # -- diffs ------------------------------------------------------------------------------------------

    def _diff_for(self, tickers: Iterable[str]) -> SignalDiff:
        """Only the signals the touched markets own, old and new."""
        touched = set(tickers)
        if not touched:
            return NO_CHANGE
        current = {s.key: s for s in self._board.signals_for(touched)}
        before: set[SignalKey] = set()
        for ticker in touched:
            before.update(self._owned.get(ticker, ()))
        return self._apply(current, {k: self.live[k] for k in before})

    def _diff_all(self) -> SignalDiff:
        current = {s.key: s for s in self._board.signals()}
        return self._apply(current, self.live)

    def _apply(self, current: Mapping[SignalKey, Signal], before: Mapping[SignalKey, Signal]) -> SignalDiff:
        appeared = tuple(s for k, s in current.items() if k not in before)
        changed = tuple(s for k, s in current.items() if k in before and before[k] != s)
        gone = tuple(s for k, s in before.items() if k not in current)
        if not (appeared or changed or gone):
            return NO_CHANGE
        for s in gone:
            del self.live[s.key]
            self.first_seen.pop(s.key, None)
            for owner in _owners(s):
                keys = self._owned.get(owner)
                if keys is not None:
                    keys.discard(s.key)
                    if not keys:
                        del self._owned[owner]
        for s in (*appeared, *changed):
            self.live[s.key] = s
        for s in appeared:
            for owner in _owners(s):
                self._owned.setdefault(owner, set()).add(s.key)
        return SignalDiff(rank(appeared), rank(changed), rank(gone))

    def note_seen(self, diff: SignalDiff, now: datetime) -> None:
        """Remember when each new signal was first seen (part of its order's ``client_order_id``)."""
        for s in diff.appeared:
            self.first_seen.setdefault(s.key, now)

    def signals(self) -> tuple[Signal, ...]:
        """The live signals, best expected value first."""
        return rank(self.live.values())
