"""Local order books rebuilt from ``orderbook_snapshot`` + ``orderbook_delta`` with ``seq`` checking.

Kalshi numbers the messages of one subscription (``sid``) consecutively. A skipped number means a message
was lost, and a lost delta could have touched any market of that subscription, so every book of that
``sid`` is marked stale and a fresh snapshot is requested for it. A stale book ignores deltas until its
snapshot arrives. Pure logic: every method takes ``now`` (monotonic seconds).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from engine.connectors.kalshi.messages import OrderbookDelta, OrderbookSnapshot
from engine.markets.kalshi import Level, Orderbook

ZERO = Decimal(0)


class LocalBook:
    """One market's bids for YES and NO, keyed by price."""

    __slots__ = ("last_message_at", "no", "sid", "stale", "ticker", "yes")

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.yes: dict[Decimal, Decimal] = {}
        self.no: dict[Decimal, Decimal] = {}
        self.stale = True  # no snapshot yet
        self.sid: int | None = None
        self.last_message_at: float | None = None

    def load(self, snap: OrderbookSnapshot, now: float) -> None:
        self.yes = {lvl.price: lvl.count for lvl in snap.yes_bids}
        self.no = {lvl.price: lvl.count for lvl in snap.no_bids}
        self.sid = snap.sid
        self.stale = False
        self.last_message_at = now

    def apply(self, delta: OrderbookDelta) -> bool:
        """Apply one delta; False (and nothing changed) when it would make a level negative."""
        ladder = self.yes if delta.side == "yes" else self.no
        new = ladder.get(delta.price, ZERO) + delta.delta
        if new < ZERO:
            return False
        if new == ZERO:
            ladder.pop(delta.price, None)
        else:
            ladder[delta.price] = new
        return True

    def orderbook(self) -> Orderbook:
        return Orderbook(
            self.ticker,
            tuple(Level(p, self.yes[p]) for p in sorted(self.yes, reverse=True)),
            tuple(Level(p, self.no[p]) for p in sorted(self.no, reverse=True)),
        )


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """What one message did: the tickers whose book changed, and those that now need a fresh snapshot
    (grouped by the subscription to ask), so the shell can send ``get_snapshot``."""

    changed: tuple[str, ...] = ()
    resync: dict[int, tuple[str, ...]] | None = None


NOTHING = BookUpdate()


class LocalBooks:
    """All local books of one connection, with the per-subscription ``seq`` check."""

    def __init__(self) -> None:
        self._books: dict[str, LocalBook] = {}
        self._last_seq: dict[int, int] = {}
        self.gaps = 0
        self.applied = 0

    def book(self, ticker: str) -> LocalBook:
        book = self._books.get(ticker)
        if book is None:
            book = self._books[ticker] = LocalBook(ticker)
        return book

    def tickers(self) -> tuple[str, ...]:
        return tuple(self._books)

    def orderbook(self, ticker: str) -> Orderbook | None:
        """The current book, or None when there is none or it is stale (never trade on a stale book)."""
        book = self._books.get(ticker)
        return None if book is None or book.stale else book.orderbook()

    def is_stale(self, ticker: str) -> bool:
        book = self._books.get(ticker)
        return book is None or book.stale

    def staleness(self, ticker: str, now: float) -> float:
        """Seconds since the last message for this market (infinite before the first one)."""
        book = self._books.get(ticker)
        if book is None or book.last_message_at is None:
            return math.inf
        return max(0.0, now - book.last_message_at)

    def touch(self, ticker: str, now: float) -> None:
        """Any message about the market (e.g. a ticker update) proves the feed for it is alive."""
        self.book(ticker).last_message_at = now

    def _check_seq(self, sid: int, seq: int) -> str:
        last = self._last_seq.get(sid)
        if last is not None and seq <= last:
            return "old"
        self._last_seq[sid] = seq
        if last is not None and seq != last + 1:
            return "gap"
        return "ok"

    def _gap(self, sid: int) -> BookUpdate:
        self.gaps += 1
        lost = tuple(t for t, b in self._books.items() if b.sid == sid)
        for t in lost:
            self._books[t].stale = True
        return BookUpdate(resync={sid: lost} if lost else None)

    def on_snapshot(self, snap: OrderbookSnapshot, now: float) -> BookUpdate:
        status = self._check_seq(snap.sid, snap.seq)
        if status == "old":
            return NOTHING
        # A snapshot is the whole truth for its market whatever came before; a gap still costs the others.
        update = self._gap(snap.sid) if status == "gap" else NOTHING
        self.book(snap.ticker).load(snap, now)
        resync = None
        if update.resync:
            others = tuple(t for t in update.resync[snap.sid] if t != snap.ticker)
            resync = {snap.sid: others} if others else None
        return BookUpdate((snap.ticker,), resync)

    def on_sequenced(self, sid: int, seq: int) -> BookUpdate:
        """A numbered message that is not a book message (an ``ok`` answer): it only advances ``seq``."""
        return self._gap(sid) if self._check_seq(sid, seq) == "gap" else NOTHING

    def on_delta(self, delta: OrderbookDelta, now: float) -> BookUpdate:
        status = self._check_seq(delta.sid, delta.seq)
        if status == "old":
            return NOTHING
        if status == "gap":
            update = self._gap(delta.sid)
            book = self.book(delta.ticker)
            book.last_message_at = now
            if book.sid is None or not update.resync:
                book.stale = True
                return BookUpdate(resync={delta.sid: (delta.ticker,)})
            if delta.ticker not in update.resync[delta.sid]:
                return BookUpdate(resync={delta.sid: (*update.resync[delta.sid], delta.ticker)})
            return update
        book = self.book(delta.ticker)
        book.last_message_at = now
        if book.stale:
            return NOTHING  # waiting for its snapshot
        if book.sid is None:
            book.sid = delta.sid
        if not book.apply(delta):
            book.stale = True
            return BookUpdate(resync={delta.sid: (delta.ticker,)})
        self.applied += 1
        return BookUpdate((delta.ticker,))

    def forget(self, tickers: Iterable[str]) -> None:
        """Drop books we no longer receive updates for, so nobody reads a frozen book as current."""
        for t in tickers:
            self._books.pop(t, None)

    def reset_connection(self) -> None:
        """After a disconnect every book is stale and every ``sid`` is forgotten (sids are per connection)."""
        self._last_seq.clear()
        for book in self._books.values():
            book.stale = True
            book.sid = None
