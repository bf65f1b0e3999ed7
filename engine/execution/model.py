"""The records execution, risk and the store share: orders and their states, fills, settlements, audit events.

One leaf module with no I/O so the breaker (``engine.risk``), the order manager (``engine.execution``) and
every store (``engine.store``) speak the same language without importing each other. Money is ``Decimal``;
timestamps are timezone-aware UTC ``datetime``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from engine.detection.signals import Side


class Mode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class Action(StrEnum):
    """Kalshi's buy/sell of one side (``yes`` or ``no``); the V2 book direction is derived from both."""

    BUY = "buy"
    SELL = "sell"


class OrderState(StrEnum):
    """NEW -> SENT -> ACKED -> PARTIAL -> FILLED / CANCELLED / REJECTED / EXPIRED; UNKNOWN when uncertain.

    NEW is committed before anything leaves the process; UNKNOWN (timeout, reset, 5xx after send) blocks new
    orders on the market until resolved against the exchange by ``client_order_id``.
    """

    NEW = "new"
    SENT = "sent"
    ACKED = "acked"
    PARTIAL = "partial"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def open(self) -> bool:
        """Could still fill (or might have): counts against exposure and blocks re-sending."""
        return not self.terminal


_TERMINAL = frozenset({OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED, OrderState.EXPIRED})


class TimeInForce(StrEnum):
    IOC = "ioc"
    FOK = "fok"
    GTC = "gtc"


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What the engine decided to send, committed to the store before it is sent.

    ``limit_price`` is the price of ``side`` (a NO buy at 0.40 is a YES ask at 0.60 on the wire).
    ``signal_key`` + ``attempt`` derive ``client_order_id``, so a retry of the same attempt can never be a
    second order.
    """

    client_order_id: str
    ticker: str
    event_ticker: str
    league: str
    side: Side
    action: Action
    count: int
    limit_price: Decimal
    time_in_force: TimeInForce
    mode: Mode
    created_at: datetime
    signal_key: str = ""
    attempt: int = 0
    group_id: str | None = None  # Kalshi-only arbitrage legs sent together share one group id
    exchange_index: int = 0
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as the store knows it now: its intent plus the latest state and fill totals."""

    intent: OrderIntent
    state: OrderState
    updated_at: datetime
    exchange_order_id: str | None = None
    filled_count: int = 0
    filled_cost: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    reason: str = ""

    @property
    def client_order_id(self) -> str:
        return self.intent.client_order_id

    @property
    def remaining(self) -> int:
        return self.intent.count - self.filled_count


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One execution. ``price`` is the price paid for ``side``; ``fee`` is what the exchange charged."""

    fill_id: str
    client_order_id: str
    ticker: str
    side: Side
    action: Action
    count: int
    price: Decimal
    fee: Decimal
    ts: datetime
    mode: Mode
    is_taker: bool = True


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    """A market's result. ``value`` is what one YES contract paid (1, 0, or 0.50 on an NFL tie)."""

    ticker: str
    event_ticker: str
    value: Decimal
    ts: datetime
    revenue: Decimal = Decimal(0)


class AuditKind(StrEnum):
    SIGNAL = "signal"
    DECISION = "decision"
    ORDER = "order"
    ORDER_STATE = "order_state"
    FILL = "fill"
    SETTLEMENT = "settlement"
    PROFILE = "profile"
    HALT = "halt"
    KILL = "kill"
    RESUME = "resume"
    RECONCILE = "reconcile"
    BREAKER = "breaker"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One line of the audit log: what happened, to which market, and the inputs that made it happen.

    ``data`` is JSON-ready (strings for money) so any store keeps it as text.
    """

    ts: datetime
    kind: AuditKind
    ticker: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
