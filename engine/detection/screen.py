"""A vectorised pre-screen over the whole board, so the exact (Decimal) rules run only where they can fire.

Every market is one row of arrays: best asks, taker fee rate, and per profile book the vig-free
probability, the quote time and the hedge prices. :meth:`ScreenArrays.candidates` applies the same rules
as :mod:`engine.detection.edge` and :mod:`engine.detection.arbitrage` in floats with a tolerance, so it
may keep a market the exact rules then drop, but never drops one they would keep. Times are integer
microseconds, so "fresh" and "started" are decided exactly as the exact rules decide them (a book is
stale when its age exceeds ``max_quote_age_s``; a game has started at ``commence_time <= now``): the
count of fresh books per market is the exact rules' count, which is what tells a market with a skip
reason from one without. Tests hold the screen to both promises.

The arrays are the board's state, written in place: a whole board in a few numpy calls
(:mod:`engine.detection.coldbuild`), one quote change in a few cells (:mod:`engine.detection.columns`).
What the single-row screen reads is mirrored in Python lists, which are cheaper than numpy one element at
a time: the per-market scalars always, a market's cells once a change has touched it (the change writes
the lists, and the arrays catch up the next time they are read whole).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from itertools import chain, repeat
from operator import attrgetter, is_not, itemgetter

import numpy as np
import numpy.typing as npt

from engine.clock import NEVER
from engine.config.profiles import Profile
from engine.mapping.types import MarketKind, MarketMatch
from engine.markets.kalshi import ACTIVE, KalshiMarket, Orderbook, series_of
from engine.pricing.fees import FeeSchedule

EPS = 1e-9
MAX_HEDGE_LEGS = 2  # a three-way market has two outcomes that YES does not pay on
WINNER = MarketKind.WINNER
NO_TIME = NEVER
"""Quote time of a cell with no usable quote (never fresh) and start of a market with no event."""
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]
Cell = tuple[float, int, float, float, float]
"""One book's view of one market: fair YES, quote time (us), the two hedge legs of YES (0 pads a two-way
market), the hedge of NO."""
Row = list[float]
"""One market's cells in one Python list, book by book in five runs: fair YES, quote time (an int), hedge leg 1,
hedge leg 2, hedge of NO. One list, not five: every list is an object the garbage collector walks."""


def pushable(match: MarketMatch | None) -> bool:
    """A whole-number spread or total can push at the book while Kalshi still settles: never locked."""
    return (
        match is not None
        and match.market_key is not MarketKind.WINNER
        and match.point is not None
        and match.point % 1 == 0
    )


_event_ticker = attrgetter("event_ticker")
_status = attrgetter("status")
_top_asks = attrgetter("top_asks")


class ScreenArrays:
    """Column store of the board: one row per market, one column per profile book."""

    def __init__(self, tickers: Sequence[str], profile: Profile) -> None:
        n, b = len(tickers), len(profile.books)
        self.profile = profile
        self.books = b
        self.voters = np.array([key not in profile.books[:j] for j, key in enumerate(profile.books)], dtype=np.bool_)
        """Columns whose fair value votes in the median and the agreement count: the first of each book key.
        The exact rules take both over ``{book: fair}`` (:func:`engine.detection.edge.side_fairs`), so a book
        the profile lists twice votes once there, while it still counts twice among the fresh views
        (``len(views)``, the consensus gate and the skip reason). A repeated column holds the same numbers
        as the first, so it is simply left out of the vote."""
        self.voters_l = self.voters.tolist()
        self.max_age_us = round(profile.max_quote_age_s * 1_000_000)
        self.min_edge = float(profile.min_edge) - EPS
        self.tickers = list(tickers)
        self.index = {t: i for i, t in enumerate(self.tickers)}
        self.priceable = np.zeros(n, dtype=np.bool_)  # active, mapped, fee type modelled
        self.pushable = np.zeros(n, dtype=np.bool_)
        self.rate = np.zeros(n)
        self.has_book = np.zeros(n, dtype=np.bool_)
        self.ask_yes = np.full(n, np.nan)
        self.ask_no = np.full(n, np.nan)
        self.commence_us = np.full(n, NO_TIME, dtype=np.int64)
        self._fair = np.full((n, b), np.nan)
        self._updated_us = np.full((n, b), NO_TIME, dtype=np.int64)
        self._hedge_yes = np.full((n, b, MAX_HEDGE_LEGS), np.inf)
        self._hedge_no = np.full((n, b), np.inf)
        self.version = np.zeros(n, dtype=np.int64)
        """Bumped whenever a row's inputs change: a cached exact result is reused only at the same version."""
        self.priceable_l = [False] * n
        self.pushable_l = [False] * n
        self.rate_l = [0.0] * n
        self.ask_yes_l = [math.nan] * n
        self.ask_no_l = [math.nan] * n
        self.commence_l = [NO_TIME] * n
        self._rows: list[Row | None] = [None] * n
        """Rows as Python lists (:data:`Row`), made when a row is first read one at a time: a quote change
        writes its cells here and screens its rows from here (a numpy element read or write costs more than
        the arithmetic on it); the arrays catch up with the rows it wrote (``_dirty``) when next read whole.
        A whole-board write drops them all."""
        self._dirty: set[int] = set()

    # -- the cell arrays: [market, book] (hedge_yes: [market, book, leg]), current whenever read -----------

    @property
    def fair(self) -> Floats:
        """Each book's vig-free probability that YES pays (NaN: no view)."""
        self._flush()
        return self._fair

    @property
    def updated_us(self) -> npt.NDArray[np.int64]:
        """Each book's quote time in Unix microseconds (``NO_TIME``: no view)."""
        self._flush()
        return self._updated_us

    @property
    def hedge_yes(self) -> Floats:
        """The implied prices of the (up to two) outcomes YES does not pay on (inf: no view, 0: no leg)."""
        self._flush()
        return self._hedge_yes

    @property
    def hedge_no(self) -> Floats:
        """The implied price of YES's own outcome, which hedges NO (inf: no view)."""
        self._flush()
        return self._hedge_no

    def _flush(self) -> None:
        """Write the rows a quote change wrote as lists into the arrays."""
        if not self._dirty:
            return
        rows = sorted(self._dirty)
        self._dirty.clear()
        held: list[Row] = []
        for i in rows:
            row = self._rows[i]
            assert row is not None  # a row is dirty only once written through its lists
            held.append(row)
        at = np.array(rows, dtype=np.intp)
        b = self.books
        self._fair[at] = [r[:b] for r in held]
        self._updated_us[at] = [r[b : 2 * b] for r in held]  # ints, exactly: never through a float
        self._hedge_yes[at, :, 0] = [r[2 * b : 3 * b] for r in held]
        self._hedge_yes[at, :, 1] = [r[3 * b : 4 * b] for r in held]
        self._hedge_no[at] = [r[4 * b :] for r in held]

    # -- writing -----------------------------------------------------------------------------------------

    def set_markets(
        self,
        markets: Sequence[KalshiMarket],
        matches: Sequence[MarketMatch | None],
        fees_for: Callable[[KalshiMarket], FeeSchedule],
    ) -> None:
        """The static part of every row; ``markets`` and ``matches`` are in row order. Fees depend on the
        series alone, so ``fees_for`` is asked once per series (any market of it stands for it)."""
        event_tickers = list(map(_event_ticker, markets))
        first_of_event = dict(zip(event_tickers, markets, strict=True))
        per_series: dict[str, tuple[bool, float]] = {}
        per_event: dict[str, tuple[bool, float]] = {}
        for event_ticker, market in first_of_event.items():
            series = series_of(event_ticker)
            known = per_series.get(series)
            if known is None:
                known = per_series[series] = _fee_facts(fees_for(market))
            per_event[event_ticker] = known
        facts = list(map(per_event.__getitem__, event_tickers))
        n = len(markets)
        active = np.fromiter(map(ACTIVE.__eq__, map(_status, markets)), np.bool_, n)
        mapped = np.fromiter(map(is_not, matches, repeat(None)), np.bool_, n)
        supported = np.fromiter(map(itemgetter(0), facts), np.bool_, n)
        self.priceable[:] = active & mapped & supported
        self.rate[:] = np.fromiter(map(itemgetter(1), facts), np.float64, n)
        lines = [i for i, m in enumerate(matches) if m is not None and m.market_key is not WINNER]
        self.pushable[:] = False
        self.pushable[lines] = [pushable(matches[i]) for i in lines]
        self.priceable_l = self.priceable.tolist()
        self.rate_l = self.rate.tolist()
        self.pushable_l = self.pushable.tolist()
        self.version += 1

    def set_market(self, i: int, market: KalshiMarket, match: MarketMatch | None, fees: FeeSchedule) -> None:
        supported, rate = _fee_facts(fees)
        priceable = market.is_active and match is not None and supported
        push = pushable(match)
        self.priceable[i], self.rate[i], self.pushable[i] = priceable, rate, push
        self.priceable_l[i], self.rate_l[i], self.pushable_l[i] = priceable, rate, push
        self.version[i] += 1

    def set_books(self, books: Mapping[str, Orderbook]) -> None:
        """Every row's best asks from ``books`` (rows without a book get none)."""
        n = len(self.tickers)
        rows = np.fromiter(map(self.index.__getitem__, books), np.intp, len(books))
        yes = np.full(n, np.nan)
        no = np.full(n, np.nan)
        if books:
            tops = np.fromiter(chain.from_iterable(map(_top_asks, books.values())), np.float64, 2 * len(books))
            yes[rows], no[rows] = tops[0::2], tops[1::2]
        has = np.zeros(n, dtype=np.bool_)
        has[rows] = True
        self.ask_yes[:], self.ask_no[:], self.has_book[:] = yes, no, has
        self.ask_yes_l, self.ask_no_l = yes.tolist(), no.tolist()
        self.version += 1

    def set_book(self, i: int, book: Orderbook) -> None:
        yes, no = book.top_asks
        self.ask_yes[i], self.ask_no[i], self.has_book[i] = yes, no, True
        self.ask_yes_l[i], self.ask_no_l[i] = yes, no
        self.version[i] += 1

    def set_commence(self, rows: Sequence[int], commence_us: int) -> None:
        for i in rows:
            self.commence_us[i] = commence_us
            self.commence_l[i] = commence_us

    def write_cell(self, i: int, j: int, value: Cell | None) -> None:
        """Book ``j``'s view of market ``i`` (None: that book gives it no view)."""
        if value is None:
            fair, updated, leg1, leg2, hedge_no = math.nan, NO_TIME, math.inf, math.inf, math.inf
        else:
            fair, updated, leg1, leg2, hedge_no = value
        row = self.row(i)
        b = self.books
        row[j], row[b + j], row[2 * b + j], row[3 * b + j], row[4 * b + j] = fair, updated, leg1, leg2, hedge_no
        self._dirty.add(i)

    def clear_quotes(self) -> None:
        """Every cell empty and every start unknown, before a whole-board build writes them."""
        self._rows = [None] * len(self.tickers)
        self._dirty.clear()
        self.commence_us[:] = NO_TIME
        self.commence_l = [NO_TIME] * len(self.tickers)
        self._fair[:] = np.nan
        self._updated_us[:] = NO_TIME
        self._hedge_yes[:] = np.inf
        self._hedge_no[:] = np.inf
        self.version += 1

    # -- screening ---------------------------------------------------------------------------------------

    def _fresh(self, t_us: int) -> npt.NDArray[np.bool_]:
        return self.updated_us >= t_us - self.max_age_us  # cells with no usable quote hold NO_TIME

    def candidates(self, t_us: int) -> Ints:
        """Rows where an edge or arb signal may exist at ``t_us``."""
        p = self.profile
        fresh = self._fresh(t_us)
        n_fresh = fresh.sum(axis=1)
        base = self.priceable & (self.commence_us > t_us) & (n_fresh >= 1)
        if not base.any():
            return np.zeros(0, dtype=np.intp)
        fair = self.fair
        votes = fresh & self.voters
        masked = np.where(votes, fair, np.nan)
        q = _median_of_sorted(np.sort(np.where(votes, fair, np.inf), axis=1), votes.sum(axis=1))
        rate = self.rate
        min_edge = self.min_edge
        enough = n_fresh >= p.book_consensus
        hit = np.zeros(len(q), dtype=np.bool_)
        with np.errstate(invalid="ignore"):
            legs = self.hedge_yes  # leg by leg: 2-D wheres and mins are about twice as fast as one 3-D
            leg1 = np.where(fresh, legs[:, :, 0], np.inf).min(axis=1)
            best_yes = leg1 + np.where(fresh, legs[:, :, 1], np.inf).min(axis=1)
            best_no = np.where(fresh, self.hedge_no, np.inf).min(axis=1)
            for ask, side_fair, book_fair, best_hedge in (
                (self.ask_yes, q, masked, best_yes),
                (self.ask_no, 1.0 - q, 1.0 - masked, best_no),
            ):
                p_eff = ask + rate * ask * (1.0 - ask)
                agree = (book_fair - p_eff[:, None] >= min_edge).sum(axis=1)
                edge = enough & (side_fair - p_eff >= min_edge) & (agree >= p.book_consensus)
                arb = ~self.pushable & (1.0 - p_eff - best_hedge > -EPS)
                hit |= edge | arb
        return np.nonzero(base & hit)[0]

    def may_skip(self, t_us: int) -> npt.NDArray[np.bool_]:
        """Rows the exact rules could give a skip reason at ``t_us`` (inactive, unmapped, no event, started,
        no book, fee type not modelled, too few fresh books). Every other row they skip only for an
        orderbook level outside 0..1, which only the books themselves can tell."""
        n_fresh = self._fresh(t_us).sum(axis=1)
        ok: npt.NDArray[np.bool_] = (
            self.priceable & (self.commence_us > t_us) & self.has_book & (n_fresh >= self.profile.book_consensus)
        )
        return ~ok

    def row(self, i: int) -> Row:
        """Market ``i``'s cells as one Python list (see :data:`Row` and ``_rows``)."""
        row = self._rows[i]
        if row is None:  # then the arrays hold this row's cells: only a row made here is ever dirty
            row = self._rows[i] = (
                self._fair[i].tolist()
                + self._updated_us[i].tolist()
                + self._hedge_yes[i].T.ravel().tolist()
                + self._hedge_no[i].tolist()
            )
        return row

    def fresh_key(self, i: int, t_us: int) -> int:
        """Which of row ``i``'s books are fresh at ``t_us``, as bits: with the row's version, everything
        ``now`` changes in the exact result of a market that has not started."""
        cutoff = t_us - self.max_age_us
        row, b = self._rows[i], self.books  # no row list is made for this: scan asks it of every market
        times = self._updated_us[i].tolist() if row is None else row[b : 2 * b]
        return sum(1 << j for j, u in enumerate(times) if u >= cutoff)

    def row_may_signal(self, i: int, t_us: int) -> bool:
        """The screen for one row in plain floats: cheaper than numpy for the rows one change touches."""
        if not self.priceable_l[i] or self.commence_l[i] <= t_us:
            return False
        ask_yes, ask_no = self.ask_yes_l[i], self.ask_no_l[i]
        if math.isnan(ask_yes) and math.isnan(ask_no):
            return False
        cutoff = t_us - self.max_age_us
        row = self.row(i)
        books = self.books
        voters = self.voters_l
        fairs: list[float] = []
        n = 0
        cost1 = cost2 = hedge_no = math.inf
        for j in range(books):  # one pass over the fresh books: a change screens every row it touches
            if row[books + j] >= cutoff:
                n += 1
                if voters[j]:
                    fairs.append(row[j])
                leg = 2 * books + j  # then the cheapest fresh hedges (conditionals, not min calls)
                a, b, c = row[leg], row[leg + books], row[leg + 2 * books]
                cost1 = a if a < cost1 else cost1
                cost2 = b if b < cost2 else cost2
                hedge_no = c if c < hedge_no else hedge_no
        if n == 0:
            return False
        fairs.sort()
        k = len(fairs)  # a book is fresh, and a repeated column is fresh only with its first: k >= 1
        q = (fairs[(k - 1) // 2] + fairs[k // 2]) / 2.0
        min_edge = self.min_edge
        need = self.profile.book_consensus
        rate = self.rate_l[i]
        push = self.pushable_l[i]
        if not math.isnan(ask_yes):
            p_eff = ask_yes + rate * ask_yes * (1.0 - ask_yes)
            if n >= need and q - p_eff >= min_edge and sum(f - p_eff >= min_edge for f in fairs) >= need:
                return True
            if not push and 1.0 - p_eff - (cost1 + cost2) > -EPS:
                return True
        if not math.isnan(ask_no):
            p_eff = ask_no + rate * ask_no * (1.0 - ask_no)
            if (
                n >= need
                and (1.0 - q) - p_eff >= min_edge
                and sum((1.0 - f) - p_eff >= min_edge for f in fairs) >= need
            ):
                return True
            if not push and 1.0 - p_eff - hedge_no > -EPS:
                return True
        return False


def _fee_facts(fees: FeeSchedule) -> tuple[bool, float]:
    """Whether the fee type is modelled, and its taker rate as a float (0 when it is not)."""
    return (True, float(fees.taker_rate)) if fees.supported else (False, 0.0)


def _median_of_sorted(sorted_rows: Floats, counts: npt.NDArray[np.intp]) -> Floats:
    """Median of the first ``counts[i]`` values of each sorted row (NaN where the count is 0)."""
    n = sorted_rows.shape[0]
    idx = np.arange(n)
    lo = np.clip((counts - 1) // 2, 0, None)
    hi = np.clip(counts // 2, 0, None)
    with np.errstate(invalid="ignore"):
        med = (sorted_rows[idx, lo] + sorted_rows[idx, hi]) / 2.0
    return np.where(counts > 0, med, np.nan)


class GroupScreen:
    """Kalshi-only arbitrage pre-screen: sum of best asks plus fees against what the set pays."""

    def __init__(self, groups: Sequence[Sequence[str]], arrays: ScreenArrays) -> None:
        self.arrays = arrays
        self.by_size: list[tuple[int, list[int], npt.NDArray[np.intp]]] = []
        sizes = list(map(len, groups))
        row_of = arrays.index.__getitem__
        for size in sorted(set(sizes)):
            members = [k for k, n in enumerate(sizes) if n == size]
            flat = chain.from_iterable(map(groups.__getitem__, members))
            idx = np.fromiter(map(row_of, flat), np.intp, size * len(members)).reshape(len(members), size)
            self.by_size.append((size, members, idx))

    def candidates(self) -> list[int]:
        arrays = self.arrays
        out: list[int] = []
        for size, members, idx in self.by_size:
            rate = arrays.rate[idx]
            for asks, payoff in ((arrays.ask_yes[idx], 1.0), (arrays.ask_no[idx], float(size - 1))):
                with np.errstate(invalid="ignore"):
                    cost = (asks + rate * asks * (1.0 - asks)).sum(axis=1)
                    ok = cost < payoff + EPS
                out.extend(members[k] for k in np.nonzero(ok)[0])
        return sorted(set(out))
