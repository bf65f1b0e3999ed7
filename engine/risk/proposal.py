"""What the breaker is asked about (an order plus the facts around it) and what it answers.

The caller (the order manager) gathers every fact once, so ``check`` stays a pure function of the proposal,
the state, the limits and ``now``: the same inputs always give the same decision, in tests and a week later
in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from engine.detection.signals import Side
from engine.execution.model import Action, OrderIntent


class Rule(StrEnum):
    """The name a decision carries: the rule that rejected, or ``ok``."""

    OK = "ok"
    INVALID = "invalid"
    HALTED = "halted"
    BLOCKED = "blocked"
    SANITY = "sanity"
    UNKNOWN_ORDERS = "unknown_orders"
    REDUCING = "reducing"
    CONSECUTIVE_LOSSES = "consecutive_losses"
    BOOK_AGE = "book_age"
    QUOTE_AGE = "quote_age"
    FEED_SILENT = "feed_silent"
    BOOK_MISMATCH = "book_mismatch"
    ORDERS_PER_SECOND = "orders_per_second"
    ORDERS_PER_MINUTE = "orders_per_minute"
    MARKET_GAP = "market_gap"
    TRADE_CONTRACTS = "trade_contracts"
    TRADE_RISK = "trade_risk"
    DAILY_LOSS = "daily_loss"
    DAILY_TRADES = "daily_trades"
    DAILY_CONTRACTS = "daily_contracts"
    DAILY_FEES = "daily_fees"
    EVENT_EXPOSURE = "event_exposure"
    LEAGUE_EXPOSURE = "league_exposure"
    TOTAL_EXPOSURE = "total_exposure"
    BALANCE = "balance"


@dataclass(frozen=True, slots=True)
class Exposure:
    """Dollars at risk already: open positions' cost plus open orders' cost and fees, by scope."""

    event: Decimal = Decimal(0)
    league: Decimal = Decimal(0)
    total: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Pending:
    """Open orders not yet filled, counted as if they will fill (daily limits must hold if they do)."""

    contracts: int = 0
    fees: Decimal = Decimal(0)
    at_risk: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class FeedState:
    """The Kalshi data behind the order, as the engine saw it.

    ``book_at``: when the local book was last known current. ``last_book_change_at`` /
    ``last_ticker_at``: the last book delta and the last ``ticker`` message. The ``*_yes_bid``/``*_yes_ask``
    pairs are the local book's best prices and the ticker channel's, which must agree.
    """

    book_at: datetime | None = None
    last_book_change_at: datetime | None = None
    last_ticker_at: datetime | None = None
    book_yes_bid: Decimal | None = None
    book_yes_ask: Decimal | None = None
    ticker_yes_bid: Decimal | None = None
    ticker_yes_ask: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderProposal:
    """An order about to leave, with everything the rules read.

    ``cost`` and ``fees`` are the worst case at the limit price (what can be lost); ``quotes_at`` is the
    oldest sportsbook quote behind the signal (``None`` when the signal uses none, e.g. ``kalshi_arb``).
    ``position`` is the signed YES contracts held in this market now (negative: NO held); ``shard_cash`` is
    the balance on the order's exchange shard (``None``: unknown, which fails closed).
    """

    intent: OrderIntent
    cost: Decimal
    fees: Decimal
    feed: FeedState = field(default_factory=FeedState)
    quotes_at: datetime | None = None
    edge: Decimal | None = None
    margin: Decimal | None = None
    shard_cash: Decimal | None = None
    exposure: Exposure = field(default_factory=Exposure)
    pending: Pending = field(default_factory=Pending)
    position: int = 0
    unknown_orders: int = 0

    @property
    def at_risk(self) -> Decimal:
        return self.cost + self.fees

    @property
    def yes_delta(self) -> int:
        """The order's effect on the signed YES position: buy YES / sell NO add, buy NO / sell YES subtract."""
        long_yes = (self.intent.side is Side.YES) == (self.intent.action is Action.BUY)
        return self.intent.count if long_yes else -self.intent.count

    @property
    def reduces(self) -> bool:
        """True when the order only shrinks the position held, never flips or grows it."""
        delta = self.yes_delta
        return self.position != 0 and delta * self.position < 0 and abs(delta) <= abs(self.position)


@dataclass(frozen=True, slots=True)
class Decision:
    """Allow or reject, the rule's name and its numbers (``daily_loss 96.40 + 7.10 at risk > 100.00``).

    ``hold`` is set by the sanity rule: the signal must be put in the breaker's held set (``hold``) for the
    operator to confirm or block.
    """

    allowed: bool
    rule: Rule
    detail: str
    hold: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "rule": self.rule.value, "detail": self.detail, "hold": self.hold}


ALLOW = Decision(True, Rule.OK, "every rule passed")
