"""From a live signal to orders: intents, the facts the breaker reads, and the order manager.

The desk turns one signal into the order intents it implies (one for an edge or an arbitrage's Kalshi
side, one per leg for a Kalshi-only arbitrage), gathers the facts the breaker needs about them (book and
quote ages, exposure, cash, position), and hands them to :class:`~engine.execution.manager.OrderManager`,
which decides, commits, sends and records. Fills update the portfolio ledger that exposure and P&L come
from. The desk never reads a book itself: the engine passes a :class:`MarketFacts` source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from engine.detection.signals import Side, Signal, SignalKind
from engine.execution.guard import BreakerGuard
from engine.execution.ids import client_order_id, signal_key
from engine.execution.kill import KillSwitch
from engine.execution.manager import OrderManager, Placement
from engine.execution.model import Action, FillRecord, Mode, OrderIntent, OrderState, TimeInForce
from engine.execution.proposals import proposal_for
from engine.portfolio.ledger import Ledger, MarketRef, apply_fill
from engine.portfolio.pnl import Mark, Summary, day_pnl, exposure, summarize
from engine.pricing.fees import FeeSchedule
from engine.risk.proposal import FeedState, OrderProposal
from engine.runtime.snapshot import LeggedView, LegView, PnlView, PositionView

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """What the desk needs to know about a market besides its book."""

    event_ticker: str
    league: str
    fees: FeeSchedule
    exchange_index: int = 0


class MarketFacts(Protocol):
    """The engine's view of a market at the moment of the order (never a network call)."""

    def info(self, ticker: str) -> MarketInfo | None: ...

    def feed(self, ticker: str) -> FeedState: ...

    def quotes_at(self, signal: Signal) -> datetime | None:
        """The oldest sportsbook quote behind ``signal`` (None when it uses none)."""
        ...

    def cash(self) -> Decimal | None:
        """Cash on the exchange (paper: the ledger's), or None when not known (fails closed)."""
        ...


@dataclass(frozen=True, slots=True)
class DeskOutcome:
    """What one signal led to: every placement (allowed or not)."""

    signal: Signal
    placements: tuple[Placement, ...]


class Desk:
    """One per engine; ``manager`` carries the mode (paper or live) and the breaker guard."""

    def __init__(
        self,
        manager: OrderManager,
        guard: BreakerGuard,
        kill_switch: KillSwitch,
        now: Callable[[], datetime],
    ) -> None:
        self.manager = manager
        self.guard = guard
        self.kill_switch = kill_switch
        self._facts: MarketFacts | None = None
        self._now = now
        self.sent = 0
        self.fills = 0
        self._counted: set[str] = set()

    @property
    def ledger(self) -> Ledger:
        """The one ledger: the breaker guard's, which every fill and settlement of this mode reaches (from the
        order manager, the live account feed and paper settlements alike), so positions, exposure and P&L
        shown anywhere are the ones the breaker decides on."""
        return self.guard.ledger

    @property
    def facts(self) -> MarketFacts:
        if self._facts is None:
            raise RuntimeError("the desk has no market facts source (the engine sets it)")
        return self._facts

    @facts.setter
    def facts(self, source: MarketFacts) -> None:
        self._facts = source

    @property
    def mode(self) -> Mode:
        return self.manager.executor.mode

    def intents(self, signal: Signal, first_seen: datetime, now: datetime) -> list[OrderIntent]:
        """The orders a signal implies, each with an id derived from the signal and attempt 0."""
        legs: Sequence[tuple[str, Decimal]]
        if signal.kind is SignalKind.KALSHI_ARB:
            legs = list(zip(signal.tickers, signal.leg_limits, strict=True))
        else:
            legs = [(signal.ticker, signal.limit_price)]
        out = []
        for ticker, limit in legs:
            info = self.facts.info(ticker)
            if info is None:
                return []
            key = signal_key(signal, first_seen, ticker if signal.kind is SignalKind.KALSHI_ARB else None)
            out.append(
                OrderIntent(
                    client_order_id=client_order_id(key, 0),
                    ticker=ticker,
                    event_ticker=info.event_ticker,
                    league=info.league,
                    side=signal.side,
                    action=Action.BUY,
                    count=signal.count,
                    limit_price=limit,
                    time_in_force=TimeInForce.IOC,
                    mode=self.mode,
                    created_at=now,
                    signal_key=key,
                    attempt=0,
                    group_id=key if signal.kind is SignalKind.KALSHI_ARB else None,
                    exchange_index=info.exchange_index,
                )
            )
        return out

    def _proposal(self, signal: Signal, intent: OrderIntent) -> OrderProposal:
        info = self.facts.info(intent.ticker)
        assert info is not None
        position = self.ledger.position(intent.ticker)
        return proposal_for(
            intent,
            info.fees,
            book_at=None,
            shard_cash=self.facts.cash(),
            quotes_at=self.facts.quotes_at(signal),
            feed=self.facts.feed(intent.ticker),
            edge=signal.edge if signal.kind is SignalKind.EDGE else None,
            margin=signal.margin,
            exposure=exposure(self.ledger, info.event_ticker, info.league),
            position=0 if position is None else position.yes_position,
            unknown_orders=len(self.manager.unknown_on(intent.ticker)),
        )

    async def submit(self, signal: Signal, first_seen: datetime) -> DeskOutcome:
        """Place what ``signal`` implies. The legs of a Kalshi-only arbitrage go one after the other, each
        with its own proposal; legs that did not fill alike put that event in REDUCING (legged)."""
        now = self._now()
        placements = []
        for intent in self.intents(signal, first_seen, now):
            placement = await self.manager.place(intent, self._proposal(signal, intent))
            placements.append(placement)
            if placement.allowed and placement.record is not None:
                self.sent += 1
                await self._book_fills(placement)
        if len(placements) > 1 and len({p.filled for p in placements}) > 1:
            detail = "legged: " + ", ".join(f"{p.intent.ticker} {p.filled}/{p.intent.count}" for p in placements)
            log.warning("kalshi_arb on %s %s", signal.event_ticker, detail)
            legs = tuple(p.intent.ticker for p in placements)  # hedged again once these hold alike
            await self.manager.guard.on_legged(signal.event_ticker, detail, self._now(), legs)
        return DeskOutcome(signal, tuple(placements))

    async def _book_fills(self, placement: Placement) -> None:
        record = placement.record
        assert record is not None
        for fill in await self.manager.store.fills(client_order_id=record.client_order_id):
            self.on_fill(fill, placement.intent)

    def on_fill(self, fill: FillRecord, intent: OrderIntent) -> bool:
        """Count a fill (once by its id) and make sure the ledger holds it; the guard normally applied it
        already. Raises :class:`~engine.portfolio.ledger.LedgerError` for a fill the ledger refuses."""
        result = apply_fill(self.guard.ledger, fill, MarketRef(intent.event_ticker, intent.league))
        if result.applied:
            self.guard.ledger = result.ledger
        if fill.fill_id in self._counted:
            return False
        self._counted.add(fill.fill_id)
        self.fills += 1
        return True

    def summary(self, marks: Callable[[str, Side], Decimal | None]) -> Summary:
        """Every position marked at the bid it could be sold at now (:func:`engine.portfolio.summarize`)."""
        ledger = self.ledger
        held = {t: Mark(marks(t, Side.YES), marks(t, Side.NO)) for t, p in ledger.positions.items() if p.count}
        return summarize(ledger, held)

    def positions(self) -> PositionView:
        ledger = self.ledger
        held = [p for p in ledger.positions.values() if p.count]
        return PositionView(len(held), exposure(ledger, "", "").total, self.legged())

    def pnl(self, marks: Callable[[str, Side], Decimal | None]) -> PnlView:
        """Realised, fees and today's net from the ledger; unrealised at the bid we could sell at now (a
        position with no bid is worth nothing until one shows)."""
        total = self.summary(marks).total
        today = day_pnl(self.ledger, self._now()).net
        return PnlView(total.realised, total.unrealised, total.fees, today, total.unmarked)

    def legged(self) -> tuple[LeggedView, ...]:
        """Events the breaker holds in REDUCING because an arbitrage filled on some legs only, with what each
        leg holds now (the markets of the arbitrage when known, else those of the event the ledger has)."""
        ledger = self.ledger
        out = []
        for event, reason in sorted(self.guard.legged.items()):
            tickers = self.guard.legs.get(event) or tuple(
                sorted(p.ticker for p in ledger.positions.values() if p.event_ticker == event)
            )
            legs = []
            for ticker in tickers:
                p = ledger.position(ticker)
                side = None if p is None or p.side is None else p.side.value
                legs.append(LegView(ticker, side, 0 if p is None else p.count))
            out.append(LeggedView(event, reason, tuple(legs)))
        return tuple(out)

    async def open_orders(self) -> tuple[int, int]:
        """(open, unknown) orders as the store holds them."""
        open_states = [s for s in OrderState if s.open]
        records = await self.manager.store.orders(states=open_states)
        return len(records), sum(1 for r in records if r.state is OrderState.UNKNOWN)
