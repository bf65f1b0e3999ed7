"""Is the Kalshi data behind the books still coming, and does it agree with the exchange's own prices?

Two ways a market-data feed fails without disconnecting, both of which the breaker must see:

- it stalls: the socket stays open but nothing arrives (rule ``book_age``), or ``ticker`` messages keep
  arriving while the book channel has gone quiet (rule ``feed_silent``): the books are frozen while the
  market moves. :func:`feed_verdict` names the rule; the engine trips the breaker REDUCING while it holds
  and lifts it when the data flows again (``engine.risk.transitions.data_stale`` / ``data_fresh``).
- a local book disagrees with the ``ticker`` channel's best YES bid/ask for the same market. A
  disagreement distrusts that book (its signals go at once) and asks for a fresh snapshot; when fresh
  snapshots of a book that keeps streaming still disagree, the book cannot be rebuilt right and the
  breaker HALTS (``book_mismatch``) for the operator.

Pure: every answer is a function of the facts passed in and ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from engine.markets.kalshi import Orderbook
from engine.money import ONE, ZERO
from engine.risk.proposal import Rule


@dataclass(frozen=True, slots=True)
class FeedFacts:
    """What the engine knows about the market-data connection.

    ``since``: when the connection (re)opened with books subscribed; silence counts from there at most.
    ``last_message_at``: any message on it; ``last_delta_at``: the last book change it streamed (snapshots
    asked for by a resync do not count: a feed that needs them to move is not flowing).
    """

    connected: bool
    books: int
    since: datetime | None
    last_message_at: datetime | None
    last_delta_at: datetime | None
    last_ticker_at: datetime | None


@dataclass(frozen=True, slots=True)
class Verdict:
    rule: Rule | None
    detail: str = ""


FRESH = Verdict(None)


def _secs(delta: timedelta) -> str:
    return f"{delta.total_seconds():.1f}s"


def _latest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def feed_verdict(facts: FeedFacts, max_book_age: timedelta, max_feed_silence: timedelta, now: datetime) -> Verdict:
    """``book_age`` when nothing arrived for longer than ``max_book_age`` on an open connection with books,
    ``feed_silent`` when ticker messages came for longer than ``max_feed_silence`` after the last book change;
    otherwise fresh. A closed connection is not a stall: its books are already untrusted."""
    if not facts.connected or facts.books == 0 or facts.since is None:
        return FRESH
    heard = _latest(facts.since, facts.last_message_at)
    assert heard is not None
    if now - heard > max_book_age:
        return Verdict(
            Rule.BOOK_AGE,
            f"no Kalshi message for {_secs(now - heard)} on an open connection (limit {_secs(max_book_age)})",
        )
    changed = _latest(facts.since, facts.last_delta_at)
    assert changed is not None
    if facts.last_ticker_at is not None and facts.last_ticker_at - changed > max_feed_silence:
        return Verdict(
            Rule.FEED_SILENT,
            f"ticker messages for {_secs(facts.last_ticker_at - changed)} without a book change "
            f"(limit {_secs(max_feed_silence)})",
        )
    return FRESH


def book_top(book: Orderbook) -> tuple[Decimal | None, Decimal | None]:
    """The local book's best YES bid and ask, as the ticker channel reports them."""
    ask = book.best_ask("yes")
    return (book.yes_bids[0].price if book.yes_bids else None), (None if ask is None else ask.price)


def ticker_prices(yes_bid: Decimal | None, yes_ask: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """The ticker channel reports an empty side as bid 0 / ask 1; the book reports it as no level."""
    bid = None if yes_bid is None or yes_bid <= ZERO else yes_bid
    ask = None if yes_ask is None or yes_ask >= ONE else yes_ask
    return bid, ask


class Check(StrEnum):
    AGREES = "agrees"
    RESYNC = "resync"
    """Distrust the book and ask for a fresh snapshot (the first disagreement, and again each ``grace``)."""
    WAIT = "wait"
    """Still disagreeing, within ``grace`` of the last snapshot asked for."""
    TRIP = "trip"
    """Fresh snapshots of a streaming book keep disagreeing: the breaker halts."""


RESYNCS_BEFORE_TRIP = 2
"""Fresh snapshots, each followed by streamed changes, that may still disagree before the breaker halts."""


@dataclass(frozen=True, slots=True)
class Disagreement:
    since: datetime
    resync_at: datetime
    resyncs: int
    book: tuple[Decimal | None, Decimal | None]
    ticker: tuple[Decimal | None, Decimal | None]
    seen: datetime | None = None
    """When it tripped (None while it has not)."""

    def detail(self, ticker: str) -> str:
        return self.describe(ticker, self.seen or self.since)

    def describe(self, ticker: str, now: datetime) -> str:
        def px(v: Decimal | None) -> str:
            return "none" if v is None else format(v, "f")

        return (
            f"book {px(self.book[0])}/{px(self.book[1])} vs ticker {px(self.ticker[0])}/{px(self.ticker[1])} "
            f"(yes bid/ask) on {ticker} for {_secs(now - self.since)}, through {self.resyncs} fresh snapshots"
        )


class MismatchWatch:
    """Per market, the open disagreement between the local book and the ticker channel, if any.

    A disagreement asks for a fresh snapshot at once and again every ``grace`` while it lasts. It trips
    only when snapshots of a book that keeps streaming changes still disagree: a book whose stream went
    quiet disagrees because it is frozen (``feed_silent`` covers that), not because it is built wrong.
    """

    def __init__(self, grace: timedelta) -> None:
        self.grace = grace
        self.open: dict[str, Disagreement] = {}
        self.tripped: dict[str, Disagreement] = {}
        self.resyncs = 0

    def check(
        self,
        ticker: str,
        book: tuple[Decimal | None, Decimal | None] | None,
        reported: tuple[Decimal | None, Decimal | None],
        now: datetime,
        streamed_at: datetime | None = None,
    ) -> Check:
        """Compare one ``ticker`` message's prices (normalised by :func:`ticker_prices`) with the local book
        as it stands in stream order. ``book`` None: no trusted book to compare (a snapshot is on its way);
        ``streamed_at``: the last streamed change (a delta, not a snapshot) of this book."""
        if book is None:
            return Check.AGREES if ticker not in self.open else Check.WAIT
        if book == reported:
            self.open.pop(ticker, None)
            return Check.AGREES
        known = self.open.get(ticker)
        if known is None:
            self.open[ticker] = Disagreement(now, now, 1, book, reported)
            self.resyncs += 1
            return Check.RESYNC
        if now - known.resync_at <= self.grace:
            self.open[ticker] = Disagreement(known.since, known.resync_at, known.resyncs, book, reported)
            return Check.WAIT
        streaming = streamed_at is not None and streamed_at > known.resync_at
        current = Disagreement(known.since, now, known.resyncs + (1 if streaming else 0), book, reported)
        if streaming and known.resyncs >= RESYNCS_BEFORE_TRIP:
            self.open[ticker] = self.tripped[ticker] = Disagreement(
                known.since, known.resync_at, known.resyncs, book, reported, now
            )
            return Check.TRIP
        self.open[ticker] = current
        self.resyncs += 1
        return Check.RESYNC

    def take_tripped(self) -> dict[str, Disagreement]:
        """Markets whose disagreement tripped since the last call."""
        out, self.tripped = self.tripped, {}
        return out

    def stands(self, ticker: str, disagreement: Disagreement) -> bool:
        """The tripped disagreement is still the open one (not cleared, nor reset by a resume since)."""
        return self.open.get(ticker) is disagreement

    def forget(self, ticker: str) -> None:
        self.open.pop(ticker, None)

    def reset(self) -> None:
        """Every open disagreement and pending trip dropped (after the operator resumes)."""
        self.open.clear()
        self.tripped.clear()
