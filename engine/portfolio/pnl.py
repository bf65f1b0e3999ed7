"""P&L views over the ledger: mark-to-market at the bid you could sell at, and totals per market, event,
league and day.

The mark is the best bid of the held side (YES bid for YES, NO bid for NO), never the mid: the mid is a
price nobody offers, and an open position is only worth what selling it now would bring. A position with no
bid is marked at zero and says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from engine.detection.signals import Side
from engine.portfolio.ledger import DayPnl, Ledger, Position
from engine.risk.proposal import Exposure

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Mark:
    """The best bids in one market now, from the local book (``None``: no bid on that side)."""

    yes_bid: Decimal | None = None
    no_bid: Decimal | None = None

    def bid(self, side: Side) -> Decimal | None:
        return self.yes_bid if side is Side.YES else self.no_bid


@dataclass(frozen=True, slots=True)
class MarketPnl:
    """One position valued now: ``value`` is count x bid, ``unrealised`` is value - cost basis."""

    position: Position
    bid: Decimal | None
    value: Decimal
    unrealised: Decimal

    @property
    def net(self) -> Decimal:
        return self.position.realised - self.position.fees + self.unrealised


@dataclass(frozen=True, slots=True)
class PnlTotals:
    """Sums over a set of markets; ``net`` = realised - fees + unrealised."""

    cost: Decimal = ZERO
    fees: Decimal = ZERO
    realised: Decimal = ZERO
    value: Decimal = ZERO
    unrealised: Decimal = ZERO
    contracts: int = 0
    unmarked: int = 0  # open positions with no bid, valued at zero

    @property
    def net(self) -> Decimal:
        return self.realised - self.fees + self.unrealised


@dataclass(frozen=True, slots=True)
class Summary:
    cash: Decimal
    markets: tuple[MarketPnl, ...]
    by_event: Mapping[str, PnlTotals]
    by_league: Mapping[str, PnlTotals]
    by_day: Mapping[date, DayPnl]
    total: PnlTotals

    @property
    def equity(self) -> Decimal:
        """Cash plus what the open positions would sell for at the bid now."""
        return self.cash + self.total.value


def mark_position(position: Position, mark: Mark | None) -> MarketPnl:
    if position.side is None or position.count == 0:
        return MarketPnl(position, None, ZERO, ZERO)
    bid = None if mark is None else mark.bid(position.side)
    value = ZERO if bid is None else bid * position.count
    return MarketPnl(position, bid, value, value - position.cost)


def summarize(ledger: Ledger, marks: Mapping[str, Mark]) -> Summary:
    """Every market marked at its bid, with totals per event, per league and overall, and P&L per day."""
    rows = tuple(mark_position(p, marks.get(t)) for t, p in sorted(ledger.positions.items()))
    events: dict[str, list[MarketPnl]] = {}
    leagues: dict[str, list[MarketPnl]] = {}
    for row in rows:
        events.setdefault(row.position.event_ticker, []).append(row)
        leagues.setdefault(row.position.league, []).append(row)
    return Summary(
        cash=ledger.cash,
        markets=rows,
        by_event={k: totals(v) for k, v in events.items()},
        by_league={k: totals(v) for k, v in leagues.items()},
        by_day=dict(sorted(ledger.days.items())),
        total=totals(rows),
    )


def totals(rows: Iterable[MarketPnl]) -> PnlTotals:
    cost = fees = realised = value = unrealised = ZERO
    contracts = unmarked = 0
    for r in rows:
        p = r.position
        cost += p.cost
        fees += p.fees
        realised += p.realised
        value += r.value
        unrealised += r.unrealised
        contracts += p.count
        unmarked += 1 if p.count and r.bid is None else 0
    return PnlTotals(cost, fees, realised, value, unrealised, contracts, unmarked)


def exposure(ledger: Ledger, event_ticker: str, league: str) -> Exposure:
    """Cost basis of open positions in the event, the league and overall: the breaker's concentration input
    (the order manager adds its open orders' cost and fees), and the exposure ``status`` shows (``total``)."""
    event = league_total = total = ZERO
    for p in ledger.positions.values():
        if p.count == 0:
            continue
        total += p.cost
        if p.league == league:
            league_total += p.cost
        if p.event_ticker == event_ticker:
            event += p.cost
    return Exposure(event=event, league=league_total, total=total)


def day_pnl(ledger: Ledger, now: datetime) -> DayPnl:
    """Today's P&L in the ledger's time zone (an empty day when nothing happened yet today): "today" is the
    calendar day of ``now`` where the breaker's daily counters roll, not the last day that saw a trade."""
    if now.tzinfo is None:
        raise ValueError(f"time {now.isoformat()} has no time zone")
    day = now.astimezone(ZoneInfo(ledger.timezone)).date()
    return ledger.days.get(day, DayPnl(day))
