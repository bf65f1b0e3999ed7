"""Locked-profit signals.

``arb``: buy a Kalshi side and back, at the best fresh sportsbook price, every outcome that side does not
pay on; every result then returns exactly $1 per contract. ``kalshi_arb``: buy every outcome of one
Kalshi event (all YES, or all NO) for less than the set is sure to pay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from engine.detection.edge import median, side_fairs
from engine.detection.fills import depth_while, sweep, whole
from engine.detection.quotes import BookView
from engine.detection.signals import Hedge, Side, Signal, SignalKind
from engine.mapping.types import MarketKind, MarketMatch
from engine.markets.kalshi import KalshiMarket, Level, Orderbook
from engine.markets.odds import Outcome
from engine.money import ONE, ZERO, to_decimal
from engine.pricing.fees import FeeSchedule


def best_hedges(views: Sequence[BookView], side: Side) -> tuple[Hedge, ...] | None:
    """The best price for each outcome ``side`` does not pay on, across the fresh books."""
    best: dict[tuple[str, Decimal | None], tuple[str, Outcome]] = {}
    expected: set[tuple[str, Decimal | None]] | None = None
    for view in views:
        outcomes = view.no_outcomes if side is Side.YES else view.yes_outcomes
        keys = {(o.name, o.point) for o in outcomes}
        if expected is None:
            expected = keys
        elif keys != expected:
            return None  # books disagree on what the outcomes are: not a safe hedge
        for o in outcomes:
            key = (o.name, o.point)
            current = best.get(key)
            if current is None or o.decimal_odds > current[1].decimal_odds:
                best[key] = (view.book, o)
    if not best:
        return None
    chosen = (best[k] for k in sorted(best, key=lambda k: (k[0], k[1] or ZERO)))
    return tuple(Hedge(book, o.name, o.point, o.decimal_odds, o.stake) for book, o in chosen)


def _may_lock(views: Sequence[BookView], side: Side, ask: float, rate: float, tie_guard: bool) -> bool:
    """Float pre-screen: could the cheapest hedges plus the best ask cost less than $1 (and, where a tie
    pays $0.50, could the ask cost at most that)?"""
    p_eff = ask + rate * ask * (1.0 - ask)
    if tie_guard and 0.5 - p_eff <= -1e-9:
        return False
    cheapest: dict[tuple[str, Decimal | None], float] = {}
    for view in views:
        for o in view.no_outcomes if side is Side.YES else view.yes_outcomes:
            key = (o.name, o.point)
            cheapest[key] = min(cheapest.get(key, 1.0), o.implied)
    return 1.0 - p_eff - sum(cheapest.values()) > -1e-9


def _pushable(match: MarketMatch) -> bool:
    """A whole-number spread or total can push at the book while Kalshi still settles: never locked."""
    return match.market_key is not MarketKind.WINNER and match.point is not None and match.point % 1 == 0


# Sports whose two-way winner markets can end tied: Kalshi then settles each team's market at $0.50 and the
# sportsbooks void the moneyline, refunding the hedge, so the position returns $0.50 for what it cost.
TIES_SETTLE_HALF = frozenset({"americanfootball_nfl"})
HALF = Decimal("0.5")


def arb_signal(
    match: MarketMatch,
    book: Orderbook,
    views: Sequence[BookView],
    side: Side,
    fees: FeeSchedule,
    max_position: int,
    *,
    ties_settle_half: bool = False,
) -> Signal | None:
    """``ties_settle_half``: a tie is possible (see :data:`TIES_SETTLE_HALF`); a level then only locks a profit
    if its effective price is at most $0.50, the tie payout."""
    if not views or _pushable(match):
        return None
    tie_guard = ties_settle_half and match.market_key is MarketKind.WINNER and len(views[0].outcomes) == 2
    best = book.best_ask(side)
    if best is None or not _may_lock(views, side, float(best.price), fees.taker_rate_float, tie_guard):
        return None
    hedges = best_hedges(views, side)
    if hedges is None:
        return None
    stakes = sum((h.stake for h in hedges), ZERO)

    def margin_at(price: Decimal) -> Decimal:
        p_eff = price + fees.per_contract(price)
        margin = ONE - p_eff - stakes
        return min(margin, HALF - p_eff) if tie_guard else margin

    ask = best.price
    margin = margin_at(ask)
    if margin <= 0:
        return None
    asks = book.asks(side)
    depth, _ = depth_while(asks, lambda price: margin_at(price) > 0)
    count = min(whole(depth), max_position)
    if count < 1:
        return None
    fill = sweep(asks, count, fees)
    fairs = side_fairs(views, side)
    fair = median(fairs.values())
    return Signal(
        kind=SignalKind.ARB,
        ticker=match.ticker,
        side=side,
        event_ticker=match.event_ticker,
        odds_event_id=match.odds_event_id,
        fair=fair,
        books=fairs,
        books_agree=len(fairs),
        ask=ask,
        edge=to_decimal(fair) - ask - fees.per_contract(ask),
        count=count,
        limit_price=fill.limit_price,
        cost=fill.cost,
        fees=fill.fees,
        ev=(ONE - stakes) * count - fill.cost - fill.fees,
        margin=margin,
        hedges=hedges,
    )


def _joint_depth(ladders: Sequence[Sequence[Level]], fees: FeeSchedule, payoff: Decimal) -> Decimal:
    """Sets of one contract per market that can be bought while a set still costs less than ``payoff``."""
    idx = [0] * len(ladders)
    left = [ladder[0].count for ladder in ladders]
    total = ZERO
    while True:
        prices = [ladder[i].price for ladder, i in zip(ladders, idx, strict=True)]
        if sum((p + fees.per_contract(p) for p in prices), ZERO) >= payoff:
            return total
        step = min(left)
        total += step
        for k, ladder in enumerate(ladders):
            left[k] -= step
            if left[k] == 0:
                idx[k] += 1
                if idx[k] >= len(ladder):
                    return total
                left[k] = ladder[idx[k]].count


def kalshi_arb_signal(
    group: Sequence[KalshiMarket],
    books: Mapping[str, Orderbook],
    side: Side,
    fees: FeeSchedule,
    max_position: int,
) -> Signal | None:
    """Buy ``side`` on every market of an exhaustive, exclusive group. All YES pays $1 per set (a tie that
    settles two team markets at $0.50 each still pays $1); all NO pays n - 1."""
    if len(group) < 2 or any(m.ticker not in books for m in group):
        return None
    payoff_float = 1.0 if side is Side.YES else float(len(group) - 1)
    column = 0 if side is Side.YES else 1
    rate = fees.taker_rate_float
    floats = [books[m.ticker].top_asks[column] for m in group]  # NaN where the side has no ask
    if not sum(a + rate * a * (1.0 - a) for a in floats) < payoff_float + 1e-9:  # float pre-screen
        return None
    tops = [books[m.ticker].best_ask(side) for m in group]
    if any(top is None for top in tops):
        return None
    payoff = ONE if side is Side.YES else Decimal(len(group) - 1)
    best = [top.price for top in tops if top is not None]
    set_cost = sum((p + fees.per_contract(p) for p in best), ZERO)
    if set_cost >= payoff:
        return None
    ladders = [books[m.ticker].asks(side) for m in group]
    count = min(whole(_joint_depth(ladders, fees, payoff)), max_position)
    if count < 1:
        return None
    fills = [sweep(ladder, count, fees) for ladder in ladders]
    cost = sum((f.cost for f in fills), ZERO)
    charged = sum((f.fees for f in fills), ZERO)
    first = group[0]
    return Signal(
        kind=SignalKind.KALSHI_ARB,
        ticker=first.ticker,
        side=side,
        event_ticker=first.event_ticker,
        fair=None,
        books={},
        books_agree=0,
        ask=sum(best, ZERO),
        edge=payoff - set_cost,
        count=count,
        limit_price=fills[0].limit_price,
        cost=cost,
        fees=charged,
        ev=payoff * count - cost - charged,
        margin=payoff - set_cost,
        tickers=tuple(m.ticker for m in group),
        leg_limits=tuple(f.limit_price for f in fills),
    )
