"""The breaker's question for one intent: its worst-case cost and fees at the limit, plus the facts the
caller measured (feed times, quotes, cash, exposure).

Worst case because the breaker must hold if the whole order fills at its limit: the cost is
``limit * count`` and the fee is what Kalshi would charge for that fill as one taker order, rounding
included (:func:`engine.pricing.fees.buy_fees_charged`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.execution.model import Action, OrderIntent
from engine.pricing.fees import FeeSchedule, buy_fees_charged
from engine.risk.proposal import Exposure, FeedState, OrderProposal, Pending


def worst_case(intent: OrderIntent, fees: FeeSchedule) -> tuple[Decimal, Decimal]:
    """(cost, fees) of ``intent`` filling completely at its limit. A sell costs nothing up front; its fee
    is still charged."""
    count = Decimal(intent.count)
    fee = buy_fees_charged([(intent.limit_price, count)], fees)
    cost = intent.limit_price * count if intent.action is Action.BUY else Decimal(0)
    return cost, fee


def proposal_for(
    intent: OrderIntent,
    fees: FeeSchedule,
    *,
    book_at: datetime | None,
    shard_cash: Decimal | None,
    quotes_at: datetime | None = None,
    feed: FeedState | None = None,
    edge: Decimal | None = None,
    margin: Decimal | None = None,
    exposure: Exposure | None = None,
    pending: Pending | None = None,
    position: int = 0,
    unknown_orders: int = 0,
) -> OrderProposal:
    """An :class:`OrderProposal` with the worst-case cost and fees filled in; ``book_at`` is when the
    Kalshi book behind the order was last known current (used when no fuller ``feed`` is given)."""
    cost, fee = worst_case(intent, fees)
    return OrderProposal(
        intent=intent,
        cost=cost,
        fees=fee,
        feed=feed or FeedState(book_at=book_at),
        quotes_at=quotes_at,
        edge=edge,
        margin=margin,
        shard_cash=shard_cash,
        exposure=exposure or Exposure(),
        pending=pending or Pending(),
        position=position,
        unknown_orders=unknown_orders,
    )
