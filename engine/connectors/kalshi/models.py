"""Portfolio and exchange payloads of the Kalshi REST API (orders, fills, positions, balance, settlements,
exchange status, order groups) as frozen records. Market data models live in :mod:`engine.markets.kalshi`.

Money stays ``Decimal``: ``*_dollars`` strings and ``*_fp`` counts, parsed field by field with errors that
name the object and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from engine.markets.fields import FieldReader
from engine.money import ZERO, parse_decimal


class BookSide(StrEnum):
    """V2 order direction, quoted on the YES leg: ``bid`` buys YES, ``ask`` sells YES (= buys NO at 1 - p)."""

    BID = "bid"
    ASK = "ask"


class TimeInForce(StrEnum):
    FILL_OR_KILL = "fill_or_kill"
    GOOD_TILL_CANCELED = "good_till_canceled"
    IMMEDIATE_OR_CANCEL = "immediate_or_cancel"


class SelfTradePrevention(StrEnum):
    TAKER_AT_CROSS = "taker_at_cross"
    MAKER = "maker"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """The body of ``POST /portfolio/events/orders`` (create-order-v2.md). ``price`` is the YES price."""

    ticker: str
    side: BookSide
    count: Decimal
    price: Decimal
    client_order_id: str
    time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELED
    self_trade_prevention_type: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    post_only: bool = False
    reduce_only: bool = False
    # A resting order left open through an exchange pause can be hit at a stale price when trading resumes.
    cancel_order_on_pause: bool = True
    expiration_time: int | None = None
    order_group_id: str | None = None
    subaccount: int | None = None

    def __post_init__(self) -> None:
        if not self.client_order_id:
            raise ValueError("an order needs a client_order_id (it is how an unknown outcome is resolved)")
        if self.count <= ZERO or self.count != self.count.quantize(Decimal("0.01")):
            raise ValueError(f"order count must be positive with at most 2 decimals, got {self.count}")
        if not (ZERO < self.price < Decimal(1)) or self.price != self.price.quantize(Decimal("0.0001")):
            raise ValueError(f"order price must be inside (0, 1) with at most 4 decimals, got {self.price}")
        if self.expiration_time is not None and self.time_in_force is TimeInForce.IMMEDIATE_OR_CANCEL:
            raise ValueError("immediate_or_cancel cannot be combined with expiration_time")

    def body(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "ticker": self.ticker,
            "client_order_id": self.client_order_id,
            "side": self.side.value,
            "count": f"{self.count:.2f}",
            "price": f"{self.price:.4f}",
            "time_in_force": self.time_in_force.value,
            "self_trade_prevention_type": self.self_trade_prevention_type.value,
            "post_only": self.post_only,
            "reduce_only": self.reduce_only,
            "cancel_order_on_pause": self.cancel_order_on_pause,
        }
        if self.expiration_time is not None:
            doc["expiration_time"] = self.expiration_time
        if self.order_group_id is not None:
            doc["order_group_id"] = self.order_group_id
        if self.subaccount is not None:
            doc["subaccount"] = self.subaccount
        return doc


@dataclass(frozen=True, slots=True)
class OrderAck:
    """``CreateOrderV2Response``; ``recovered`` is True when it was rebuilt from a lookup after an
    unknown outcome instead of read from the create response."""

    order_id: str
    client_order_id: str
    fill_count: Decimal
    remaining_count: Decimal
    average_fill_price: Decimal | None = None
    average_fee_paid: Decimal | None = None
    ts_ms: int | None = None
    recovered: bool = False


def parse_order_ack(obj: object) -> OrderAck:
    r = FieldReader("kalshi order", obj, "order_id")
    fill = r.count("fill_count")
    remaining = r.count("remaining_count")
    assert fill is not None and remaining is not None
    return OrderAck(
        order_id=r.ident,
        client_order_id=r.string("client_order_id", required=False),
        fill_count=fill,
        remaining_count=remaining,
        average_fill_price=r.price("average_fill_price", required=False),
        average_fee_paid=r.amount("average_fee_paid", required=False),
        ts_ms=r.integer("ts_ms", required=False),
    )


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    client_order_id: str
    ticker: str
    status: str  # resting, canceled, executed
    book_side: str
    outcome_side: str
    yes_price: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    initial_count: Decimal
    taker_fees: Decimal
    maker_fees: Decimal
    order_group_id: str | None = None
    created_time: datetime | None = None

    def ack(self) -> OrderAck:
        return OrderAck(self.order_id, self.client_order_id, self.fill_count, self.remaining_count, recovered=True)


def parse_order(obj: object) -> Order:
    r = FieldReader("kalshi order", obj, "order_id")
    yes_price = r.price("yes_price_dollars")
    fill, remaining, initial = r.count("fill_count_fp"), r.count("remaining_count_fp"), r.count("initial_count_fp")
    taker, maker = r.amount("taker_fees_dollars"), r.amount("maker_fees_dollars")
    assert yes_price is not None and fill is not None and remaining is not None and initial is not None
    assert taker is not None and maker is not None
    group = r.obj.get("order_group_id")
    return Order(
        order_id=r.ident,
        client_order_id=r.string("client_order_id", required=False),
        ticker=r.string("ticker"),
        status=r.string("status"),
        book_side=r.string("book_side", required=False),
        outcome_side=r.string("outcome_side", required=False),
        yes_price=yes_price,
        fill_count=fill,
        remaining_count=remaining,
        initial_count=initial,
        taker_fees=taker,
        maker_fees=maker,
        order_group_id=group if isinstance(group, str) and group else None,
        created_time=r.timestamp("created_time", required=False),
    )


@dataclass(frozen=True, slots=True)
class CancelResult:
    """``reduced_by`` None: the cancel executed but the venue's answer did not say by how much."""

    order_id: str
    client_order_id: str
    reduced_by: Decimal | None
    error: str = ""


def parse_cancel(obj: object) -> CancelResult:
    r = FieldReader("kalshi cancel", obj, "order_id")
    reduced = r.count("reduced_by", required=False)
    err = r.obj.get("error")
    message = ""
    if isinstance(err, dict):
        message = str(err.get("message") or err.get("code") or "error")
    return CancelResult(r.ident, r.string("client_order_id", required=False), reduced or ZERO, message)


@dataclass(frozen=True, slots=True)
class Fill:
    fill_id: str
    order_id: str
    ticker: str
    book_side: str
    outcome_side: str
    count: Decimal
    yes_price: Decimal
    is_taker: bool
    fee_cost: Decimal
    created_time: datetime | None = None


def parse_fill(obj: object) -> Fill:
    r = FieldReader("kalshi fill", obj, "fill_id")
    count, price, fee = r.count("count_fp"), r.price("yes_price_dollars"), r.amount("fee_cost")
    assert count is not None and price is not None and fee is not None
    taker = r.obj.get("is_taker")
    if not isinstance(taker, bool):
        raise r.fail("is_taker", "expected a boolean")
    return Fill(
        fill_id=r.ident,
        order_id=r.string("order_id"),
        ticker=r.string("market_ticker", required=False) or r.string("ticker"),
        book_side=r.string("book_side", required=False),
        outcome_side=r.string("outcome_side", required=False),
        count=count,
        yes_price=price,
        is_taker=taker,
        fee_cost=fee,
        created_time=r.timestamp("created_time", required=False),
    )


@dataclass(frozen=True, slots=True)
class Position:
    """``position_fp`` is signed: positive = YES contracts held, negative = NO contracts held."""

    ticker: str
    position: Decimal
    market_exposure: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    total_traded: Decimal


def parse_position(obj: object) -> Position:
    r = FieldReader("kalshi position", obj, "ticker")
    raw = r.obj.get("position_fp")
    try:
        position = parse_decimal(raw)
    except ValueError as exc:
        raise r.fail("position_fp", str(exc)) from None
    values = [r.amount(n) for n in ("market_exposure_dollars", "realized_pnl_dollars", "fees_paid_dollars")]
    traded = r.amount("total_traded_dollars")
    assert all(v is not None for v in values) and traded is not None
    exposure, pnl, fees = (v or ZERO for v in values)
    return Position(r.ident, position, exposure, pnl, fees, traded)


@dataclass(frozen=True, slots=True)
class Balance:
    """``balance`` sums every exchange shard; an order can only use the collateral of its market's shard
    (exchange_sharding.md), which ``on_exchange`` gives when the venue sent ``balance_breakdown``."""

    balance: Decimal
    portfolio_value_cents: int
    updated_ts: int
    breakdown: tuple[tuple[int, Decimal], ...] = ()

    def on_exchange(self, exchange_index: int) -> Decimal | None:
        """The balance on one shard; None when the venue sent no breakdown (unknown, not zero)."""
        if not self.breakdown:
            return None
        return next((amount for index, amount in self.breakdown if index == exchange_index), ZERO)


def parse_balance(obj: object) -> Balance:
    r = FieldReader("kalshi balance", obj, "", ident="portfolio")
    dollars = r.amount("balance_dollars", required=False)
    cents = r.integer("balance", required=dollars is None)
    balance = dollars if dollars is not None else Decimal(cents or 0) / 100
    breakdown: list[tuple[int, Decimal]] = []
    for i, entry in enumerate(r.array("balance_breakdown", required=False)):
        part = FieldReader("kalshi balance", entry, "", ident="portfolio", prefix=f"balance_breakdown[{i}].")
        index = part.integer("exchange_index")
        amount = part.amount("balance")
        assert index is not None and amount is not None
        breakdown.append((index, amount))
    portfolio = r.integer("portfolio_value", required=False) or 0
    return Balance(balance, portfolio, r.integer("updated_ts", required=False) or 0, tuple(breakdown))


@dataclass(frozen=True, slots=True)
class Settlement:
    ticker: str
    event_ticker: str
    market_result: str
    yes_count: Decimal
    no_count: Decimal
    revenue_cents: int
    fee_cost: Decimal
    settled_time: datetime | None


def parse_settlement(obj: object) -> Settlement:
    r = FieldReader("kalshi settlement", obj, "ticker")
    yes, no, fee = r.count("yes_count_fp"), r.count("no_count_fp"), r.amount("fee_cost")
    assert yes is not None and no is not None and fee is not None
    return Settlement(
        r.ident,
        r.string("event_ticker"),
        r.string("market_result"),
        yes,
        no,
        r.integer("revenue", required=True) or 0,
        fee,
        r.timestamp("settled_time", required=False),
    )


@dataclass(frozen=True, slots=True)
class ExchangeStatus:
    """The top-level flags describe exchange shard 0 only; ``shards`` holds ``exchange_index_statuses`` as
    ``(exchange_index, exchange_active, trading_active)`` when the venue sent them."""

    exchange_active: bool
    trading_active: bool
    shards: tuple[tuple[int, bool, bool], ...] = ()

    @property
    def open(self) -> bool:
        return self.exchange_active and self.trading_active

    def open_on(self, exchange_index: int) -> bool:
        """Trading is possible on this shard. Without a per-shard breakdown only the top level is known; a
        shard missing from a breakdown is closed."""
        if not self.shards:
            return self.open
        return any(index == exchange_index and active and trading for index, active, trading in self.shards)


def _flag(r: FieldReader, name: str) -> bool:
    value = r.obj.get(name)
    if not isinstance(value, bool):
        raise r.fail(name, "missing or not a boolean")
    return value


def parse_exchange_status(obj: object) -> ExchangeStatus:
    r = FieldReader("kalshi exchange status", obj, "", ident="exchange")
    shards: list[tuple[int, bool, bool]] = []
    for i, entry in enumerate(r.array("exchange_index_statuses", required=False)):
        prefix = f"exchange_index_statuses[{i}]."
        part = FieldReader("kalshi exchange status", entry, "", ident="exchange", prefix=prefix)
        index = part.integer("exchange_index")
        assert index is not None
        shards.append((index, _flag(part, "exchange_active"), _flag(part, "trading_active")))
    return ExchangeStatus(_flag(r, "exchange_active"), _flag(r, "trading_active"), tuple(shards))


@dataclass(frozen=True, slots=True)
class OrderGroup:
    order_group_id: str
    contracts_limit: Decimal | None = None
    is_auto_cancel_enabled: bool | None = None
    order_ids: tuple[str, ...] = ()
    exchange_index: int = 0


def parse_order_group(obj: object, order_group_id: str | None = None) -> OrderGroup:
    r = FieldReader("kalshi order group", obj, "order_group_id", ident=order_group_id)
    enabled = r.obj.get("is_auto_cancel_enabled")
    orders = tuple(o for o in r.array("orders", required=False) if isinstance(o, str))
    return OrderGroup(
        r.ident,
        r.count("contracts_limit_fp", required=False),
        enabled if isinstance(enabled, bool) else None,
        orders,
        r.integer("exchange_index", required=False) or 0,
    )
