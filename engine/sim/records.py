"""The exchange's records (orders, fills, positions, settlements) and the events it publishes.

Orders and positions are mutable state owned by the exchange; fills, settlements and published events are
immutable facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.money import ONE, ZERO

RESTING = "resting"
CANCELED = "canceled"
EXECUTED = "executed"

GTC = "good_till_canceled"
IOC = "immediate_or_cancel"
FOK = "fill_or_kill"
TIME_IN_FORCE = (GTC, IOC, FOK)

BID = "bid"
ASK = "ask"


@dataclass(slots=True)
class Order:
    order_id: str
    client_order_id: str
    ticker: str
    book_side: str  # "bid" buys YES, "ask" sells YES (buys NO at 1 - price)
    price: Decimal  # YES price
    initial: Decimal
    time_in_force: str
    post_only: bool
    self_trade_prevention: str
    created: datetime
    updated: datetime
    order_group_id: str = ""
    expiration_ts: int | None = None
    filled: Decimal = ZERO
    remaining: Decimal = ZERO
    status: str = RESTING
    taker_fees: Decimal = ZERO
    maker_fees: Decimal = ZERO
    taker_cost: Decimal = ZERO
    maker_cost: Decimal = ZERO
    fee_accumulator: Decimal = ZERO

    @property
    def outcome_side(self) -> str:
        return "yes" if self.book_side == BID else "no"

    @property
    def own_price(self) -> Decimal:
        """The price on the ladder this order rests on (YES price for bids, NO price for asks)."""
        return self.price if self.book_side == BID else ONE - self.price


@dataclass(frozen=True, slots=True)
class Fill:
    fill_id: str
    order_id: str
    client_order_id: str
    ticker: str
    book_side: str
    count: Decimal
    yes_price: Decimal
    is_taker: bool
    fee: Decimal
    created: datetime
    post_position: Decimal

    @property
    def outcome_side(self) -> str:
        return "yes" if self.book_side == BID else "no"


@dataclass(slots=True)
class Position:
    ticker: str
    event_ticker: str
    position: Decimal = ZERO  # signed: positive YES, negative NO
    exposure: Decimal = ZERO  # cost of the contracts now held
    realized_pnl: Decimal = ZERO
    fees_paid: Decimal = ZERO
    total_traded: Decimal = ZERO
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    ticker: str
    event_ticker: str
    result: str
    yes_count: Decimal
    yes_cost: Decimal
    no_count: Decimal
    no_cost: Decimal
    revenue: Decimal
    fees: Decimal
    settled: datetime


@dataclass(frozen=True, slots=True)
class BookChange:
    """One level of one ladder moved by ``delta`` contracts (what ``orderbook_delta`` carries)."""

    ticker: str
    side: str
    price: Decimal
    delta: Decimal
    client_order_id: str = ""


@dataclass(frozen=True, slots=True)
class Trade:
    trade_id: str
    ticker: str
    yes_price: Decimal
    count: Decimal
    taker_side: str
    created: datetime


@dataclass(frozen=True, slots=True)
class TickerChange:
    ticker: str


@dataclass(frozen=True, slots=True)
class OrderChange:
    order_id: str


@dataclass(frozen=True, slots=True)
class FillEvent:
    fill: Fill


@dataclass(frozen=True, slots=True)
class PositionChange:
    ticker: str


@dataclass(frozen=True, slots=True)
class OrderGroupChange:
    """An order group was created, triggered, reset or deleted (what ``order_group_updates`` carries)."""

    group_id: str
    event_type: str
    contracts_limit: Decimal | None = None


ExchangeEvent = BookChange | Trade | TickerChange | OrderChange | FillEvent | PositionChange | OrderGroupChange
