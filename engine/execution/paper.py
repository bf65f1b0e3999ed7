"""Paper fills against the Kalshi book as the engine sees it: the default mode.

:func:`match` is the pure part: walk the book's levels best first within the limit, IOC takes what is
there, FOK all or nothing, and each level is one fill charged exactly as Kalshi charges it (the quadratic
trade fee rounded up to the centicent, then the balance rounding with the per-order accumulator of
:mod:`engine.pricing.fees`). :class:`PaperExecutor` adds what makes paper honest: it waits a configurable
latency *before* it looks at the book, so a level that vanished in that time is missed, as it would be live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.detection.signals import Side
from engine.execution.executor import Execution
from engine.execution.ids import paper_fill_id
from engine.execution.model import Action, FillRecord, Mode, OrderIntent, OrderRecord, OrderState, TimeInForce
from engine.markets.kalshi import Level, Orderbook
from engine.money import ONE, ZERO
from engine.pricing.fees import FeeSchedule, charge_fill


class PaperOrderError(ValueError):
    """An order paper trading cannot simulate faithfully (it says which and why)."""


def _levels(intent: OrderIntent, book: Orderbook) -> tuple[Level, ...]:
    """Prices of ``intent.side`` this order can trade at, best first: asks to buy, bids to sell."""
    if intent.action is Action.BUY:
        return book.asks(intent.side.value)
    return book.yes_bids if intent.side is Side.YES else book.no_bids


def _within(intent: OrderIntent, price: Decimal) -> bool:
    if intent.action is Action.BUY:
        return price <= intent.limit_price
    return price >= intent.limit_price


def match(intent: OrderIntent, book: Orderbook, fees: FeeSchedule, now: datetime) -> Execution:
    """The fills ``intent`` gets from ``book`` as a taker, and the state they leave it in.

    A GTC remainder would rest and fill later against flow paper does not see, so paper refuses GTC
    rather than guess (:class:`PaperOrderError`)."""
    if intent.time_in_force is TimeInForce.GTC:
        raise PaperOrderError("paper trading fills IOC and FOK orders only; a GTC order needs the live executor")
    if intent.ticker != book.ticker:
        raise PaperOrderError(f"book of {book.ticker} given for an order on {intent.ticker}")
    takes: list[tuple[Decimal, int]] = []
    left = intent.count
    for level in _levels(intent, book):
        if left <= 0 or not _within(intent, level.price):
            break
        whole = int(level.count)  # fractional contracts are not ours to take with whole-contract orders
        qty = min(left, whole)
        if qty > 0:
            takes.append((level.price, qty))
            left -= qty
    if intent.time_in_force is TimeInForce.FOK and left > 0:
        reason = f"fill-or-kill: {intent.count - left} of {intent.count} available within {intent.limit_price}"
        return Execution(intent.client_order_id, OrderState.CANCELLED, None, (), reason)
    fills: list[FillRecord] = []
    acc = ZERO
    for index, (price, qty) in enumerate(takes):
        count = Decimal(qty)
        yes_price = price if intent.side is Side.YES else ONE - price
        trade_fee = fees.trade_fee(yes_price, count)
        revenue = -(price * count) if intent.action is Action.BUY else price * count
        charge, acc = charge_fill(revenue, trade_fee, acc)
        fills.append(
            FillRecord(
                fill_id=paper_fill_id(intent.client_order_id, index),
                client_order_id=intent.client_order_id,
                ticker=intent.ticker,
                side=intent.side,
                action=intent.action,
                count=qty,
                price=price,
                fee=charge.net_fee,
                ts=now,
                mode=Mode.PAPER,
                is_taker=True,
            )
        )
    filled = intent.count - left
    state = OrderState.FILLED if left == 0 else OrderState.CANCELLED
    reason = "" if left == 0 else f"immediate-or-cancel: {filled} of {intent.count} filled, the rest cancelled"
    return Execution(intent.client_order_id, state, f"paper-{intent.client_order_id}", tuple(fills), reason)


BookSource = Callable[[str], Orderbook | None]
"""The engine's current book of a market, or None when it has none it trusts (missing or stale)."""


@dataclass(slots=True)
class PaperExecutor:
    """Fills orders against ``books`` after ``latency_s``; nothing leaves the process.

    ``fees`` gives each market's fee schedule (its series'); ``now`` is the clock stamped on fills.
    """

    books: BookSource
    fees: Callable[[str], FeeSchedule]
    now: Callable[[], datetime]
    latency_s: float = 0.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    mode: Mode = Mode.PAPER
    _done: dict[str, Execution] = field(default_factory=dict)

    async def execute(self, intent: OrderIntent) -> Execution:
        """Match once per ``client_order_id``: sending the same order again returns the first answer, as the
        exchange would refuse a duplicate id."""
        known = self._done.get(intent.client_order_id)
        if known is not None:
            return known
        if self.latency_s > 0:
            await self.sleep(self.latency_s)
        book = self.books(intent.ticker)
        if book is None:
            result = Execution(intent.client_order_id, OrderState.REJECTED, reason=f"no fresh book for {intent.ticker}")
        else:
            try:
                result = match(intent, book, self.fees(intent.ticker), self.now())
            except PaperOrderError as exc:
                result = Execution(intent.client_order_id, OrderState.REJECTED, reason=str(exc))
        self._done[intent.client_order_id] = result
        return result

    async def resolve(self, record: OrderRecord) -> Execution:
        """Paper orders live in this process only: one interrupted by a restart fills no further, and the
        fills already recorded for it stand."""
        known = self._done.get(record.client_order_id)
        if known is not None:
            return known
        return Execution(record.client_order_id, OrderState.CANCELLED, reason="paper order interrupted by a restart")

    async def cancel(self, record: OrderRecord) -> Execution:
        """Paper orders never rest, so there is nothing to cancel."""
        return await self.resolve(record)
