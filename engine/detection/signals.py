"""What detection emits. Immutable; serialised with prices and money as decimal strings."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from engine.money import money_str, price_str, quantize


class SignalKind(StrEnum):
    EDGE = "edge"  # +EV against the vig-free sportsbook consensus
    ARB = "arb"  # Kalshi side + sportsbook hedges lock a profit
    KALSHI_ARB = "kalshi_arb"  # every outcome of one Kalshi event bought for less than it pays


class Side(StrEnum):
    YES = "yes"
    NO = "no"

    @property
    def other(self) -> Side:
        return Side.NO if self is Side.YES else Side.YES


@dataclass(frozen=True, slots=True)
class Hedge:
    """One sportsbook leg of an arbitrage: back ``outcome`` at ``book`` with ``stake`` dollars per contract."""

    book: str
    outcome: str
    point: Decimal | None
    decimal_odds: Decimal
    stake: Decimal  # 1 / decimal_odds: returns exactly $1 if the outcome wins

    def to_json(self) -> dict[str, Any]:
        return {
            "book": self.book,
            "outcome": self.outcome,
            "point": None if self.point is None else str(self.point),
            "decimal_odds": str(quantize(self.decimal_odds, Decimal("0.0001"))),
            "stake": str(quantize(self.stake, Decimal("0.000001"))),
        }


@dataclass(frozen=True, slots=True)
class Signal:
    """A recommended Kalshi buy: ``count`` contracts of ``side`` up to ``limit_price``.

    ``cost`` and ``fees`` are what that fill costs as the exchange charges it; ``ev`` is its expected
    value (for arbitrage, the locked profit including the hedge stakes).
    """

    kind: SignalKind
    ticker: str
    side: Side
    event_ticker: str
    fair: float | None
    books: dict[str, float]
    books_agree: int
    ask: Decimal
    edge: Decimal
    count: int
    limit_price: Decimal
    cost: Decimal
    fees: Decimal
    ev: Decimal
    odds_event_id: str | None = None
    margin: Decimal | None = None
    hedges: tuple[Hedge, ...] = ()
    tickers: tuple[str, ...] = field(default_factory=tuple)
    leg_limits: tuple[Decimal, ...] = field(default_factory=tuple)  # per ticker, for kalshi_arb

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind.value, self.ticker, self.side.value)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "ticker": self.ticker,
            "side": self.side.value,
            "event_ticker": self.event_ticker,
            "odds_event_id": self.odds_event_id,
            "fair": None if self.fair is None else round(self.fair, 6),
            "books": {b: round(p, 6) for b, p in self.books.items()},
            "books_agree": self.books_agree,
            "ask": price_str(self.ask),
            "edge": str(quantize(self.edge, Decimal("0.000001"))),
            "count": self.count,
            "limit_price": price_str(self.limit_price),
            "cost": money_str(self.cost),
            "fees": money_str(self.fees),
            "ev": format(quantize(self.ev), "f"),
        }
        if self.kind is not SignalKind.EDGE:
            out["margin"] = None if self.margin is None else str(quantize(self.margin, Decimal("0.000001")))
        if self.kind is SignalKind.ARB:
            out["hedges"] = [h.to_json() for h in self.hedges]
        if self.kind is SignalKind.KALSHI_ARB:
            out["tickers"] = list(self.tickers)
            out["legs"] = [
                {"ticker": t, "limit_price": price_str(p)} for t, p in zip(self.tickers, self.leg_limits, strict=True)
            ]
        return out


@dataclass(frozen=True, slots=True)
class Skip:
    """A market detection did not price, and why (inactive, unmatched, started, stale books, ...)."""

    ticker: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"ticker": self.ticker, "reason": self.reason}
