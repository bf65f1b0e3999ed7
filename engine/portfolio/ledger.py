"""Positions and cash from fills and settlements: the pure ledger.

A Kalshi market nets YES against NO, so a position is one side and a count: buying NO while holding YES
closes YES (each YES+NO pair is redeemed for $1), exactly as the exchange reports ``position_fp``. Every
fill is therefore read as "long ``side`` at ``unit price``": buy YES at p and sell NO at 1-p are both long
YES. Average-cost basis; realised P&L is gross of fees, which are kept apart so both are visible.

Pure and immutable: ``apply_fill`` and ``apply_settlement`` return a new :class:`Ledger`; a fill id or a
settled ticker seen before changes nothing, so replays after a restart never double.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.detection.signals import Side, Signal, SignalKind
from engine.errors import ArbError
from engine.execution.model import Action, FillRecord, SettlementRecord

ZERO = Decimal(0)
ONE = Decimal(1)
BASIS_STEP = Decimal("1e-10")  # a partial close's share of cost; the remainder stays exact


class LedgerError(ArbError):
    """A fill or settlement the ledger cannot apply; the ledger is unchanged."""


@dataclass(frozen=True, slots=True)
class MarketRef:
    """Where a market belongs, for the per-event and per-league views."""

    event_ticker: str
    league: str


@dataclass(frozen=True, slots=True)
class Position:
    """One market: ``count`` contracts of ``side`` held (``side`` is ``None`` when flat), their cost basis,
    every fee paid here, and the gross P&L realised by closing fills and the settlement.

    ``net_fills`` is the signed YES contracts of all fills ever applied (buy YES / sell NO positive), which
    equals the held position until the market settles.
    """

    ticker: str
    event_ticker: str
    league: str
    side: Side | None = None
    count: int = 0
    cost: Decimal = ZERO
    fees: Decimal = ZERO
    realised: Decimal = ZERO
    contracts_traded: int = 0
    net_fills: int = 0
    fill_ids: frozenset[str] = frozenset()
    settlement_value: Decimal | None = None
    settlement_revenue: Decimal = ZERO

    @property
    def yes_position(self) -> int:
        """Signed like Kalshi's ``position_fp``: positive YES, negative NO."""
        if self.side is None:
            return 0
        return self.count if self.side is Side.YES else -self.count

    @property
    def avg_price(self) -> Decimal | None:
        """Average price paid per held contract (fees excluded); ``None`` when flat."""
        return None if self.count == 0 else self.cost / self.count

    @property
    def settled(self) -> bool:
        return self.settlement_value is not None

    @property
    def net_realised(self) -> Decimal:
        return self.realised - self.fees


@dataclass(frozen=True, slots=True)
class DayPnl:
    """One trading day (in the ledger's time zone): gross realised P&L, fees, contracts and fills."""

    day: date
    realised: Decimal = ZERO
    fees: Decimal = ZERO
    contracts: int = 0
    fills: int = 0

    @property
    def net(self) -> Decimal:
        return self.realised - self.fees


@dataclass(frozen=True, slots=True)
class HedgeInstruction:
    """A sportsbook leg of an ``arb`` signal: what the operator must place by hand. Never an execution."""

    signal_key: str
    ticker: str
    book: str
    outcome: str
    point: Decimal | None
    decimal_odds: Decimal
    stake: Decimal  # dollars in total: the per-contract stake times the contracts bought on Kalshi
    contracts: int
    ts: datetime
    status: str = "manual"


@dataclass(frozen=True, slots=True)
class Ledger:
    """Cash and positions. ``cash`` moves only by fills (cost, fees, $1 per redeemed pair) and settlements."""

    start_cash: Decimal
    cash: Decimal
    timezone: str = "America/New_York"
    positions: Mapping[str, Position] = field(default_factory=dict)
    days: Mapping[date, DayPnl] = field(default_factory=dict)
    instructions: tuple[HedgeInstruction, ...] = ()

    @classmethod
    def start(cls, cash: Decimal, timezone: str = "America/New_York") -> Ledger:
        if cash < 0:
            raise LedgerError(f"starting cash {cash} must not be negative")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise LedgerError(f"ledger time zone {timezone!r} is not an IANA time zone") from None
        return cls(start_cash=cash, cash=cash, timezone=timezone)

    def position(self, ticker: str) -> Position | None:
        return self.positions.get(ticker)


@dataclass(frozen=True, slots=True)
class FillResult:
    """The ledger after a fill; ``applied`` is False for a fill id already counted (nothing changed)."""

    ledger: Ledger
    applied: bool
    realised: Decimal = ZERO
    position: Position | None = None


@dataclass(frozen=True, slots=True)
class SettlementResult:
    """The ledger after a settlement: ``revenue`` paid, ``realised`` by it, and the market's whole net P&L."""

    ledger: Ledger
    applied: bool
    revenue: Decimal = ZERO
    realised: Decimal = ZERO
    market_pnl: Decimal = ZERO
    position: Position | None = None


def long_side(fill: FillRecord) -> tuple[Side, Decimal]:
    """The side a fill makes you long and the price paid for it: selling one side buys the other at 1 - p."""
    if fill.action is Action.BUY:
        return fill.side, fill.price
    return fill.side.other, ONE - fill.price


def apply_fill(ledger: Ledger, fill: FillRecord, market: MarketRef | None = None) -> FillResult:
    """Apply one fill. ``market`` is required the first time a ticker is seen (its event and league)."""
    current = ledger.positions.get(fill.ticker)
    if current is not None and fill.fill_id in current.fill_ids:
        return FillResult(ledger, applied=False, position=current)
    _validate_fill(fill)
    if current is None:
        if market is None:
            raise LedgerError(f"fill {fill.fill_id}: market {fill.ticker} is new; its event and league are needed")
        current = Position(fill.ticker, market.event_ticker, market.league)
    elif market is not None and market.event_ticker != current.event_ticker:
        raise LedgerError(
            f"fill {fill.fill_id}: market {fill.ticker} belongs to {current.event_ticker}, not {market.event_ticker}"
        )
    if current.settled:
        raise LedgerError(f"fill {fill.fill_id}: market {fill.ticker} has already settled")

    side, unit = long_side(fill)
    n = fill.count
    cash = ledger.cash - unit * n - fill.fee
    realised = ZERO
    held_side, held, cost = current.side, current.count, current.cost
    if held_side is not None and held_side is not side and held > 0:
        closing = min(n, held)
        basis = cost if closing == held else (cost * closing / held).quantize(BASIS_STEP, ROUND_HALF_EVEN)
        realised = closing * ONE - closing * unit - basis
        cash += closing  # each YES + NO pair is redeemed for $1
        held, cost = held - closing, cost - basis
        n -= closing
        if held == 0:
            held_side = None
    if n > 0:
        held_side = side
        held += n
        cost += unit * n
    signed = fill.count if side is Side.YES else -fill.count
    position = replace(
        current,
        side=held_side,
        count=held,
        cost=cost,
        fees=current.fees + fill.fee,
        realised=current.realised + realised,
        contracts_traded=current.contracts_traded + fill.count,
        net_fills=current.net_fills + signed,
        fill_ids=current.fill_ids | {fill.fill_id},
    )
    day = _day_of(ledger, fill.ts)
    old = ledger.days.get(day, DayPnl(day))
    new_day = replace(
        old,
        realised=old.realised + realised,
        fees=old.fees + fill.fee,
        contracts=old.contracts + fill.count,
        fills=old.fills + 1,
    )
    new = replace(
        ledger,
        cash=cash,
        positions={**ledger.positions, fill.ticker: position},
        days={**ledger.days, day: new_day},
    )
    return FillResult(new, applied=True, realised=realised, position=position)


def apply_settlement(ledger: Ledger, settlement: SettlementRecord) -> SettlementResult:
    """Pay the held contracts at ``value`` per YES (1 - value per NO): $0.50 each on an NFL tie.

    A second settlement of the same ticker changes nothing. A settlement of a market never traded is kept
    (flat) so a late fill for it is refused rather than opening a position in a closed market.
    """
    current = ledger.positions.get(settlement.ticker)
    if current is not None and current.settled:
        return SettlementResult(ledger, applied=False, position=current)
    value = settlement.value
    if not ZERO <= value <= ONE:
        raise LedgerError(f"settlement of {settlement.ticker}: value {value} is outside 0..1 dollars")
    if settlement.ts.tzinfo is None:
        raise LedgerError(f"settlement of {settlement.ticker}: time {settlement.ts.isoformat()} has no time zone")
    if current is None:
        current = Position(settlement.ticker, settlement.event_ticker, "")
    pays = ZERO
    if current.side is Side.YES:
        pays = value
    elif current.side is Side.NO:
        pays = ONE - value
    revenue = pays * current.count
    realised = revenue - current.cost
    position = replace(
        current,
        side=None,
        count=0,
        cost=ZERO,
        realised=current.realised + realised,
        settlement_value=value,
        settlement_revenue=revenue,
    )
    day = _day_of(ledger, settlement.ts)
    old = ledger.days.get(day, DayPnl(day))
    new = replace(
        ledger,
        cash=ledger.cash + revenue,
        positions={**ledger.positions, settlement.ticker: position},
        days={**ledger.days, day: replace(old, realised=old.realised + realised)},
    )
    return SettlementResult(
        new,
        applied=True,
        revenue=revenue,
        realised=realised,
        market_pnl=position.net_realised,
        position=position,
    )


def record_hedges(ledger: Ledger, signal: Signal, contracts: int, ts: datetime) -> Ledger:
    """Keep an ``arb`` signal's sportsbook legs as instructions for ``contracts`` Kalshi contracts.

    Cash and positions are untouched: arbtui never places a sportsbook bet, so nothing about one is an
    execution; the operator places it by hand from the instruction (book, outcome, odds, stake).
    """
    if signal.kind is not SignalKind.ARB or not signal.hedges:
        raise LedgerError(f"signal {signal.ticker}: only an arb signal has sportsbook hedge legs")
    if contracts <= 0:
        raise LedgerError(f"hedge instructions for {signal.ticker}: contracts {contracts} must be at least 1")
    key = ":".join(signal.key)
    new = []
    for h in signal.hedges:
        if h.decimal_odds <= ONE or h.stake <= 0:
            raise LedgerError(
                f"hedge at {h.book} on {h.outcome}: odds {h.decimal_odds} must be > 1 and stake {h.stake} > 0"
            )
        new.append(
            HedgeInstruction(
                key, signal.ticker, h.book, h.outcome, h.point, h.decimal_odds, h.stake * contracts, contracts, ts
            )
        )
    return replace(ledger, instructions=(*ledger.instructions, *new))


def _validate_fill(fill: FillRecord) -> None:
    problems = []
    if fill.count <= 0:
        problems.append(f"count {fill.count} must be at least 1")
    if not ZERO < fill.price < ONE:
        problems.append(f"price {fill.price} must be between 0 and 1 dollars")
    if fill.fee < 0:
        problems.append(f"fee {fill.fee} must not be negative")
    if fill.ts.tzinfo is None:
        problems.append(f"time {fill.ts.isoformat()} has no time zone")
    if problems:
        raise LedgerError(f"fill {fill.fill_id} on {fill.ticker}: " + "; ".join(problems))


def _day_of(ledger: Ledger, ts: datetime) -> date:
    return ts.astimezone(ZoneInfo(ledger.timezone)).date()
