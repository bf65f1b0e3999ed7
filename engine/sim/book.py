"""One market's resting orders: YES bids and NO bids, price-time priority, as Kalshi's book holds them.

A YES ask at ``p`` is a NO bid at ``1 - p``, so only bids are stored. Aggregated levels and per-level
changes are what the REST orderbook and the WebSocket deltas are built from.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from engine.markets.kalshi import Level, Orderbook
from engine.money import ZERO

YES = "yes"
NO = "no"


@dataclass(slots=True)
class Resting:
    """A resting order's book-facing part; the owner's order record lives in the exchange."""

    order_id: str
    owner: str
    side: str  # "yes" or "no": the bid ladder it rests on
    price: Decimal  # on that ladder
    remaining: Decimal


class MarketBook:
    __slots__ = ("_by_id", "no", "ticker", "yes")

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.yes: dict[Decimal, deque[Resting]] = {}
        self.no: dict[Decimal, deque[Resting]] = {}
        self._by_id: dict[str, Resting] = {}

    def ladder(self, side: str) -> dict[Decimal, deque[Resting]]:
        return self.yes if side == YES else self.no

    def add(self, order: Resting) -> None:
        self.ladder(order.side).setdefault(order.price, deque()).append(order)
        self._by_id[order.order_id] = order

    def remove(self, order_id: str) -> Resting | None:
        order = self._by_id.pop(order_id, None)
        if order is None:
            return None
        ladder = self.ladder(order.side)
        queue = ladder.get(order.price)
        if queue is not None:
            with contextlib.suppress(ValueError):
                queue.remove(order)
            if not queue:
                del ladder[order.price]
        return order

    def get(self, order_id: str) -> Resting | None:
        return self._by_id.get(order_id)

    def fill(self, order: Resting, count: Decimal) -> None:
        """Reduce a resting order by ``count``; a fully filled order leaves the book."""
        order.remaining -= count
        if order.remaining <= ZERO:
            self.remove(order.order_id)

    def best_price(self, side: str) -> Decimal | None:
        ladder = self.ladder(side)
        return max(ladder) if ladder else None

    def best_first(self, side: str) -> list[Decimal]:
        return sorted(self.ladder(side), reverse=True)

    def level_total(self, side: str, price: Decimal) -> Decimal:
        queue = self.ladder(side).get(price)
        return sum((o.remaining for o in queue), ZERO) if queue else ZERO

    def levels(self, side: str) -> dict[Decimal, Decimal]:
        return {p: sum((o.remaining for o in q), ZERO) for p, q in self.ladder(side).items()}

    def orders_of(self, owner: str) -> list[Resting]:
        return [o for o in self._by_id.values() if o.owner == owner]

    def snapshot(self) -> Orderbook:
        """The book as the engine's model holds it (best first), for assertions in tests."""
        yes = self.levels(YES)
        no = self.levels(NO)
        return Orderbook(
            self.ticker,
            tuple(Level(p, yes[p]) for p in sorted(yes, reverse=True)),
            tuple(Level(p, no[p]) for p in sorted(no, reverse=True)),
        )
