"""The breaker's impure shell: holds the current :class:`BreakerState`, asks :mod:`engine.risk` for every
decision and transition, and persists each new state before the caller acts on it.

The rules and transitions are pure (``engine.risk``), and so is the ledger that says what a fill or a
settlement realised (``engine.portfolio``); this class only feeds them and carries their results to the
store, so a halt survives a restart and a decision a week old can be read back with the state it was made in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.errors import ArbError
from engine.execution.model import (
    AuditEvent,
    AuditKind,
    FillRecord,
    Mode,
    OrderIntent,
    OrderRecord,
    SettlementRecord,
)
from engine.portfolio.ledger import Ledger, LedgerError, MarketRef, apply_fill, apply_settlement
from engine.risk import transitions as t
from engine.risk.check import check
from engine.risk.limits import RiskLimits
from engine.risk.proposal import Decision, OrderProposal, Rule
from engine.risk.state import BreakerMode, BreakerState
from engine.store.base import Store

log = logging.getLogger(__name__)

STORE_RULE = "store"
"""The rule named by a halt for a lost database."""

ZERO = Decimal(0)

_TIGHTNESS = {BreakerMode.ACTIVE: 0, BreakerMode.REDUCING: 1, BreakerMode.HALTED: 2}


def _log_lost_write(write: asyncio.Future[None]) -> None:
    """A state write whose caller was cancelled: nobody else hears how it ended."""
    if not write.cancelled() and (exc := write.exception()) is not None:
        log.error("breaker: state write finished after its caller left and failed: %s", exc)


class BreakerGuard:
    """``await BreakerGuard.open(store, limits, now, mode=...)`` restores the persisted state (or starts
    ACTIVE) and rebuilds, from the store's fills and settlements of ``mode``, the positions that decide what
    the next fill or settlement realises.

    The realised P&L comes from the pure ledger (:mod:`engine.portfolio.ledger`): a sell or an opposite buy
    that closes contracts below their cost, and a settlement below cost, are losses that count towards the
    daily loss limit; a market whose whole result (fees included) is negative extends the losing streak.
    """

    def __init__(self, store: Store, limits: RiskLimits, state: BreakerState, ledger: Ledger | None = None) -> None:
        self._store = store
        self.limits = limits
        self.state = state
        self.ledger = ledger if ledger is not None else Ledger.start(ZERO, limits.timezone)
        self.legs: dict[str, tuple[str, ...]] = {}
        """Legged event -> the markets of its arbitrage, which must be flat or hedged to lift REDUCING."""

    @classmethod
    async def open(
        cls,
        store: Store,
        limits: RiskLimits,
        now: datetime,
        *,
        mode: Mode | None = None,
        start_cash: Decimal = ZERO,
    ) -> BreakerGuard:
        """``start_cash``: the bankroll the ledger starts from (paper cash is this less costs and fees, plus
        settlements); the ledger is the one the desk, ``status`` and the dashboard read too."""
        doc = await store.load_breaker()
        state = t.initial_state(limits, now) if doc is None else BreakerState.from_json(doc)
        guard = cls(store, limits, state, Ledger.start(start_cash, limits.timezone))
        await guard._rebuild(mode)
        await guard._set(t.roll_day(state, limits, now), now, force=True)
        return guard

    async def _rebuild(self, mode: Mode | None) -> None:
        """Positions from what the store holds (the breaker's counters are not touched: they were persisted
        as they happened), and the legs of every event still legged, from the audit log."""
        markets = {r.client_order_id: MarketRef(r.intent.event_ticker, r.intent.league)
                   for r in await self._store.orders()}  # fmt: skip
        fills = [f for f in await self._store.fills() if mode is None or f.mode is mode]
        settlements = await self._store.settlements()
        self.ledger = replay_ledger(self.ledger, fills, settlements, markets)
        if self.state.reducing_events:
            for event in await self._store.audit(kinds=(AuditKind.BREAKER,)):
                data = event.data
                name = data.get("event_ticker")
                if data.get("legged") and name in self.state.reducing_events and isinstance(data.get("legs"), list):
                    self.legs[str(name)] = tuple(str(x) for x in data["legs"])

    @property
    def mode(self) -> BreakerMode:
        return self.state.mode

    @property
    def legged(self) -> dict[str, str]:
        """Events where only reductions pass because an arbitrage filled on some legs only: event -> why."""
        return dict(self.state.reducing_events)

    async def _set(self, state: BreakerState, now: datetime, *, force: bool = False) -> None:
        if state == self.state and not force:
            return
        before = self.state
        # Swapped in before the write, with no await between the caller's read of ``self.state`` and this:
        # a halt made while another transition's write is in flight is never overwritten by that older state.
        self.state = state
        # The write runs as its own task: a caller cancelled meanwhile (the account feed shut down just after
        # it halted) cannot stop a write already on its way (SQLite's worker thread commits it regardless), so
        # the state stays in force here as in the store, and the mode change is still audited.
        write = asyncio.ensure_future(self._persist(before, state, now))
        try:
            await asyncio.shield(write)
        except asyncio.CancelledError:
            if not write.done():
                write.add_done_callback(_log_lost_write)
            raise

    async def _persist(self, before: BreakerState, state: BreakerState, now: datetime) -> None:
        """Write ``state``; if the write fails, memory goes back to ``before`` only when that is not looser
        than ``state`` (a halt that could not be saved still stops new orders; the next write carries it)."""
        try:
            await self._store.save_breaker(state.to_json(), now)
        except BaseException:
            if self.state is state and _TIGHTNESS[before.mode] >= _TIGHTNESS[state.mode]:
                self.state = before
            raise
        if before.mode is not state.mode:
            data = {"from": before.mode.value, "to": state.mode.value, "rule": state.rule, "reason": state.reason}
            await self._store.append_audit(AuditEvent(now, AuditKind.BREAKER, None, data))

    async def check(self, intent: OrderIntent, context: Any, now: datetime) -> Decision:
        if not isinstance(context, OrderProposal) or context.intent != intent:
            raise ArbError(f"order {intent.client_order_id}: the breaker needs the OrderProposal of this intent")
        state = t.roll_day(self.state, self.limits, now)
        decision = check(state, self.limits, context, now)
        if decision.hold:
            state = t.hold(state, context, decision, now)
        await self._set(state, now)
        return decision

    async def on_sent(self, intent: OrderIntent, now: datetime) -> None:
        await self._set(t.on_order_sent(self.state, self.limits, intent, now), now)

    async def on_fill(self, fill: FillRecord, record: OrderRecord, now: datetime) -> None:
        """Count the fill with the gross P&L it realised against the position held before it."""
        realised = ZERO
        market = MarketRef(record.intent.event_ticker, record.intent.league)
        try:
            result = apply_fill(self.ledger, fill, market)
            self.ledger = result.ledger
            realised = result.realised
        except LedgerError as exc:  # counted without a realised P&L rather than not at all
            log.error("breaker: fill %s counted without its realised P&L: %s", fill.fill_id, exc)
        state = t.on_fill(self.state, self.limits, fill, realised, now)
        await self._set(self._clear_hedged(state, market.event_ticker, now), now)

    async def on_settlement(self, settlement: SettlementRecord, now: datetime) -> None:
        """Count what the settlement realised today and, by the market's whole net result, the streak."""
        try:
            result = apply_settlement(self.ledger, settlement)
        except LedgerError as exc:
            log.error("breaker: settlement of %s not counted: %s", settlement.ticker, exc)
            return
        self.ledger = result.ledger
        if not result.applied:
            return
        position = result.position
        traded = position is not None and position.contracts_traded > 0
        state = self.state
        if traded:
            state = t.on_settlement(state, self.limits, settlement, result.realised, result.market_pnl, now)
        await self._set(self._clear_hedged(state, settlement.event_ticker, now), now)

    async def on_legged(self, event_ticker: str, detail: str, now: datetime, legs: Sequence[str] = ()) -> None:
        """Only reductions on this event until ``legs`` are flat or hedged; the legs are kept in the audit log
        so a restart still knows which markets must even out."""
        if legs:
            self.legs[event_ticker] = tuple(legs)
        data = {"event_ticker": event_ticker, "legged": True, "detail": detail, "legs": list(legs)}
        await self._store.append_audit(AuditEvent(now, AuditKind.BREAKER, None, data))
        await self._set(t.event_legged(self.state, event_ticker, detail), now)

    def _clear_hedged(self, state: BreakerState, event_ticker: str, now: datetime) -> BreakerState:
        if event_ticker not in state.reducing_events:
            return state
        legs = self.legs.get(event_ticker) or tuple(
            p.ticker for p in self.ledger.positions.values() if p.event_ticker == event_ticker
        )
        verdict = evened_out(self.ledger, legs, known_legs=event_ticker in self.legs)
        if verdict is None:
            return state
        log.info("breaker: %s is %s again; new entries allowed there", event_ticker, verdict)
        self.legs.pop(event_ticker, None)
        return t.event_cleared(state, event_ticker)

    async def halt(self, reason: str, now: datetime) -> None:
        await self._set(t.halt(self.state, reason, now), now)

    async def kill(self, reason: str, now: datetime) -> None:
        await self._set(t.kill(self.state, reason, now), now)

    async def resume(self, now: datetime) -> None:
        await self._set(t.resume(self.state, now), now)

    async def data_stale(self, rule: Rule, detail: str, now: datetime) -> None:
        """The Kalshi feed stalled while connected: REDUCING until :meth:`data_fresh` (engine.risk.transitions)."""
        await self._set(t.data_stale(self.state, rule, detail, now), now)

    async def data_fresh(self, now: datetime) -> None:
        await self._set(t.data_fresh(self.state, now), now)

    async def book_mismatch(self, detail: str, now: datetime) -> None:
        """A book that disagrees with the exchange's ticker even after a fresh snapshot: HALTED."""
        await self._set(t.book_mismatch(self.state, detail, now), now)

    async def fail_closed(self, reason: str, now: datetime) -> None:
        """Start HALTED with ``reason`` (restart recovery found what it cannot explain)."""
        await self._set(t.halt(self.state, reason, now, rule="reconcile"), now)

    async def store_lost(self, reason: str, now: datetime) -> None:
        """The database is unreachable: HALTED for new entries with ``reason`` (the store queues this state
        with the other writes). It is not lifted when the database returns: a limit tripped meanwhile is
        hidden behind the halt (a halt keeps its first reason), so only the operator's resume can loosen it."""
        await self._set(t.halt(self.state, f"database unreachable: {reason}", now, rule=STORE_RULE), now)


def evened_out(ledger: Ledger, legs: Sequence[str], *, known_legs: bool) -> str | None:
    """``"flat"`` when no leg holds anything, ``"hedged"`` when every leg holds the same count of the same
    side (every outcome bought once more pays $1 whatever happens), else None.

    Hedged needs the arbitrage's legs to be known: with only the markets the ledger has seen, a leg that
    never filled is invisible, so only flat can be decided."""
    held = [(p.side, p.count) if (p := ledger.position(t)) is not None else (None, 0) for t in legs]
    if all(count == 0 for _, count in held):
        return "flat"
    if known_legs and len(set(held)) == 1:
        return "hedged"
    return None


def replay_ledger(
    ledger: Ledger,
    fills: Iterable[FillRecord],
    settlements: Iterable[SettlementRecord],
    markets: dict[str, MarketRef],
) -> Ledger:
    """``ledger`` with ``fills`` and ``settlements`` applied in time order, a settlement after every fill of
    its market: the exchange stamps settlements to the second, so a fill in the same second can carry a later
    time, and nothing trades a market after it settled. Fills of unknown orders or that the ledger refuses
    are logged and skipped."""
    fills = list(fills)
    last_fill: dict[str, datetime] = {}
    for f in fills:
        last_fill[f.ticker] = max(f.ts, last_fill.get(f.ticker, f.ts))
    events: list[tuple[datetime, int, FillRecord | SettlementRecord]] = [(f.ts, 0, f) for f in fills]
    events += [(max(s.ts, last_fill.get(s.ticker, s.ts)), 1, s) for s in settlements]
    for _, _, item in sorted(events, key=lambda e: (e[0], e[1])):
        try:
            if isinstance(item, FillRecord):
                market = markets.get(item.client_order_id)
                if market is None:
                    log.warning("breaker: fill %s belongs to no stored order; not replayed", item.fill_id)
                    continue
                ledger = apply_fill(ledger, item, market).ledger
            else:
                ledger = apply_settlement(ledger, item).ledger
        except LedgerError as exc:
            log.warning("breaker: not replayed: %s", exc)
    return ledger
