"""A vectorised pre-screen over the whole board, so the exact (Decimal) rules run only where they can fire.

Every market is one row of float arrays (best asks, fee rate, each book's vig-free probability and quote
time, hedge prices). :meth:`ScreenArrays.candidates` applies the same rules as :mod:`engine.detection.edge`
and :mod:`engine.detection.arbitrage` in floats with a tolerance, so it may keep a market the exact rules
then drop, but never drops one they would keep. Tests hold the two to that promise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from engine.config.profiles import Profile
from engine.detection.quotes import line_outcomes
from engine.errors import PricingError
from engine.mapping.types import MarketKind, MarketMatch
from engine.markets.kalshi import KalshiMarket, Orderbook
from engine.markets.odds import BookMarket, OddsEvent
from engine.pricing.fees import FeeSchedule
from engine.pricing.vig import remove_vig

EPS = 1e-9
MAX_HEDGE_LEGS = 2  # a three-way market has two outcomes that YES does not pay on
Floats = npt.NDArray[np.float64]


@dataclass(slots=True)
class RowQuotes:
    """One market's sportsbook inputs, per profile book (NaN / inf where a book has no usable quote)."""

    fair: list[float]
    updated: list[float]
    hedge_yes: list[list[float]]  # implied probabilities of the outcomes YES does not pay on
    hedge_no: list[float]  # implied probability of the outcome YES pays on
    commence: float = -math.inf  # game start (unix seconds); -inf without an event


def _empty_row(books: int, commence: float) -> RowQuotes:
    hedges = [[math.inf] * MAX_HEDGE_LEGS] * books
    return RowQuotes([math.nan] * books, [-math.inf] * books, hedges, [math.inf] * books, commence)


Cell = tuple[float, float, list[float], float]  # fair YES, quote time, hedge legs (YES side), hedge (NO side)
CellCache = dict[tuple[str, int], tuple[BookMarket, Cell | None]]


def _cell(market: BookMarket, match: MarketMatch, profile: Profile) -> Cell | None:
    selected = line_outcomes(market, match)
    if selected is None:
        return None
    outcomes, yes_index = selected
    others = [o.implied for i, o in enumerate(outcomes) if i != yes_index]
    if len(others) > MAX_HEDGE_LEGS:
        return None
    try:
        fair = remove_vig([o.implied for o in outcomes], profile.vig_method)
    except PricingError:
        return None
    legs = others + [0.0] * (MAX_HEDGE_LEGS - len(others))
    return fair[yes_index], market.last_update.timestamp(), legs, outcomes[yes_index].implied


def rows_for_event(
    event: OddsEvent | None, matches: Sequence[MarketMatch], profile: Profile, cache: CellCache | None = None
) -> list[RowQuotes]:
    """Rows for every market of one event, looking each book up once for all of them.

    With ``cache``, a book whose market object is unchanged since the last call is not recomputed: a feed
    update usually moves one book, and the quote objects are immutable, so identity means equality.
    """
    if event is None:
        return [_empty_row(len(profile.books), -math.inf) for _ in matches]
    commence = event.commence_time.timestamp()
    rows = [_empty_row(len(profile.books), commence) for _ in matches]
    for j, key in enumerate(profile.books):
        bookmaker = event.bookmaker(key)
        if bookmaker is None:
            continue
        for match, row in zip(matches, rows, strict=True):
            market = bookmaker.market(match.market_key.value)
            if market is None:
                continue
            hit = cache.get((match.ticker, j)) if cache is not None else None
            if hit is not None and hit[0] is market:
                cell = hit[1]
            else:
                cell = _cell(market, match, profile)
                if cache is not None:
                    cache[(match.ticker, j)] = (market, cell)
            if cell is not None:
                row.fair[j], row.updated[j], row.hedge_yes[j], row.hedge_no[j] = cell
    return rows


def row_may_signal(
    row: RowQuotes, ask_yes: float, ask_no: float, rate: float, pushable: bool, profile: Profile, t: float
) -> bool:
    """The screen for one row in plain floats: cheaper than numpy for the one or two markets a change touches.

    Callers check ``priceable`` and ``commence > t`` first; this is the price part of the rules.
    """
    cutoff = t - profile.max_quote_age_s
    fair, updated = row.fair, row.updated
    fresh = [j for j in range(len(fair)) if updated[j] >= cutoff and not math.isnan(fair[j])]
    if not fresh:
        return False
    fairs = sorted([fair[j] for j in fresh])
    n = len(fairs)
    q = (fairs[(n - 1) // 2] + fairs[n // 2]) / 2.0
    min_edge = float(profile.min_edge) - EPS
    need = profile.book_consensus
    if not math.isnan(ask_yes):
        p_eff = ask_yes + rate * ask_yes * (1.0 - ask_yes)
        if n >= need and q - p_eff >= min_edge and sum(f - p_eff >= min_edge for f in fairs) >= need:
            return True
        if not pushable:
            hedges = row.hedge_yes
            cost = sum(min(hedges[j][k] for j in fresh) for k in range(MAX_HEDGE_LEGS))
            if 1.0 - p_eff - cost > -EPS:
                return True
    if not math.isnan(ask_no):
        p_eff = ask_no + rate * ask_no * (1.0 - ask_no)
        if n >= need and (1.0 - q) - p_eff >= min_edge and sum((1.0 - f) - p_eff >= min_edge for f in fairs) >= need:
            return True
        if not pushable and 1.0 - p_eff - min(row.hedge_no[j] for j in fresh) > -EPS:
            return True
    return False


def _ask(book: Orderbook | None, side: str) -> float:
    best = book.best_ask(side) if book is not None else None
    return math.nan if best is None else float(best.price)


class ScreenArrays:
    """Column store of the board. Rows are set one market at a time; screening is one vector pass."""

    def __init__(self, tickers: Sequence[str], profile: Profile) -> None:
        n, b = len(tickers), len(profile.books)
        self.profile = profile
        self.tickers = list(tickers)
        self.index = {t: i for i, t in enumerate(self.tickers)}
        self.priceable = np.zeros(n, dtype=np.bool_)  # active, mapped, fee type modelled
        self.pushable = np.zeros(n, dtype=np.bool_)
        self.commence = np.full(n, -np.inf)
        self.rate = np.zeros(n)
        self.ask_yes = np.full(n, np.nan)
        self.ask_no = np.full(n, np.nan)
        self.fair = np.full((n, b), np.nan)
        self.updated = np.full((n, b), -np.inf)
        self.hedge_yes = np.full((n, b, MAX_HEDGE_LEGS), np.inf)
        self.hedge_no = np.full((n, b), np.inf)

    def set_market(
        self, market: KalshiMarket, match: MarketMatch | None, fees: FeeSchedule
    ) -> tuple[bool, float, bool]:
        """Writes the row's static part and returns it (priceable, taker rate, pushable) for scalar use."""
        i = self.index[market.ticker]
        priceable = market.is_active and match is not None and fees.supported
        rate = float(fees.taker_rate) if fees.supported else 0.0
        pushable = (
            match is not None
            and match.market_key is not MarketKind.WINNER
            and match.point is not None
            and match.point % 1 == 0
        )
        self.priceable[i], self.rate[i], self.pushable[i] = priceable, rate, pushable
        return priceable, rate, pushable

    def set_book(self, book: Orderbook) -> tuple[float, float]:
        """Writes the best YES and NO asks and returns them."""
        i = self.index[book.ticker]
        asks = _ask(book, "yes"), _ask(book, "no")
        self.ask_yes[i], self.ask_no[i] = asks
        return asks

    def set_quotes(self, ticker: str, row: RowQuotes) -> None:
        i = self.index[ticker]
        self.commence[i] = row.commence
        self.fair[i] = row.fair
        self.updated[i] = row.updated
        self.hedge_yes[i] = row.hedge_yes
        self.hedge_no[i] = row.hedge_no

    def candidates(self, now: datetime) -> list[str]:
        """Tickers where an edge or arb signal may exist at ``now``."""
        p = self.profile
        t = now.timestamp()
        fair = self.fair
        fresh = (self.updated >= t - p.max_quote_age_s) & ~np.isnan(fair)
        n_fresh = fresh.sum(axis=1)
        base = self.priceable & (self.commence > t) & (n_fresh >= 1)
        masked = np.where(fresh, fair, np.nan)
        sorted_fair = np.sort(np.where(fresh, fair, np.inf), axis=1)
        q = _median_of_sorted(sorted_fair, n_fresh)
        rate = self.rate
        min_edge = float(p.min_edge) - EPS
        hit = np.zeros(len(q), dtype=np.bool_)
        for ask, side_fair, book_fair, hedges in (
            (self.ask_yes, q, masked, self.hedge_yes),
            (self.ask_no, 1.0 - q, 1.0 - masked, self.hedge_no[:, :, None]),
        ):
            p_eff = ask + rate * ask * (1.0 - ask)
            with np.errstate(invalid="ignore"):
                agree = (book_fair - p_eff[:, None] >= min_edge).sum(axis=1)
                edge = (n_fresh >= p.book_consensus) & (side_fair - p_eff >= min_edge) & (agree >= p.book_consensus)
                best_hedge = np.where(fresh[:, :, None], hedges, np.inf).min(axis=1).sum(axis=1)
                arb = ~self.pushable & (1.0 - p_eff - best_hedge > -EPS)
            hit |= edge | arb
        return [self.tickers[i] for i in np.nonzero(base & hit)[0]]


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
        for size in sorted({len(g) for g in groups}):
            members = [k for k, g in enumerate(groups) if len(g) == size]
            idx = np.array([[arrays.index[t] for t in groups[k]] for k in members], dtype=np.intp)
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
