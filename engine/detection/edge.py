"""+EV signals: a Kalshi side priced below the vig-free sportsbook consensus by at least ``min_edge``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from engine.config.profiles import Profile
from engine.detection.fills import depth_while, sweep, whole
from engine.detection.quotes import BookView
from engine.detection.signals import Side, Signal, SignalKind
from engine.mapping.types import MarketMatch
from engine.markets.kalshi import Orderbook
from engine.money import ONE, ZERO, to_decimal
from engine.pricing.fees import FeeSchedule


def median(values: Iterable[float]) -> float:
    """``statistics.median`` for the few floats of one market's books, without its generality."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("no median of no values")
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2.0


def side_fairs(views: Sequence[BookView], side: Side) -> dict[str, float]:
    """Each book's vig-free probability that ``side`` pays."""
    if side is Side.YES:
        return {v.book: v.fair_yes for v in views}
    return {v.book: 1.0 - v.fair_yes for v in views}


def clears(fair: float, ask: Decimal, fees: FeeSchedule, min_edge: Decimal) -> bool:
    """Float pre-screen that only rejects what is clearly short of ``min_edge``; the exact Decimal test follows."""
    a = float(ask)
    return fair - a - fees.taker_rate_float * a * (1.0 - a) >= float(min_edge) - 1e-9


def edge_signal(
    match: MarketMatch,
    book: Orderbook,
    views: Sequence[BookView],
    side: Side,
    fees: FeeSchedule,
    profile: Profile,
    bankroll: Decimal,
    max_position: int,
) -> Signal | None:
    """The edge signal for buying ``side``, or None when any rule fails (see the engine-core issue)."""
    if len(views) < profile.book_consensus:
        return None
    best = book.best_ask(side)
    if best is None:
        return None
    fairs = side_fairs(views, side)
    fair = median(fairs.values())
    ask = best.price
    if not clears(fair, ask, fees, profile.min_edge):
        return None
    fair_d = to_decimal(fair)
    fee = fees.per_contract(ask)
    edge = fair_d - ask - fee
    min_edge = profile.min_edge
    if edge < min_edge:
        return None
    agree = sum(1 for p in fairs.values() if to_decimal(p) - ask - fee >= min_edge)
    if agree < profile.book_consensus:
        return None

    p_eff = ask + fee
    if p_eff <= ZERO or p_eff >= ONE:  # a free or certain-loss ask has no Kelly size (and would divide by 0)
        return None
    kelly = (fair_d - p_eff) / (ONE - p_eff)
    kelly_count = whole(profile.kelly_fraction * kelly * bankroll / p_eff)
    asks = book.asks(side)
    depth, _ = depth_while(asks, lambda price: fair_d - price - fees.per_contract(price) >= min_edge)
    count = min(kelly_count, whole(depth), max_position)
    if count < 1:
        return None
    fill = sweep(asks, count, fees)
    return Signal(
        kind=SignalKind.EDGE,
        ticker=match.ticker,
        side=side,
        event_ticker=match.event_ticker,
        odds_event_id=match.odds_event_id,
        fair=fair,
        books=fairs,
        books_agree=agree,
        ask=ask,
        edge=edge,
        count=count,
        limit_price=fill.limit_price,
        cost=fill.cost,
        fees=fill.fees,
        ev=fair_d * count - fill.cost - fill.fees,
    )
