"""The order manager: every order goes breaker check -> intent committed (NEW) -> send -> SENT / ACKED /
UNKNOWN -> fills -> final state, each step persisted and audited before the next one.

Why in this order: an intent committed before the send means a crash at any later point leaves a record
that restart recovery resolves against the exchange by ``client_order_id``; fills are recorded by
``fill_id`` so a fill seen twice (ack, WebSocket, REST) is counted once; an order whose outcome is
unknown blocks its market until resolved, so a retry can never double a position.

The breaker itself is pure and lives in :mod:`engine.risk`; the manager reaches it through a
:class:`Guard`, the small impure shell that holds the breaker state and persists its transitions.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from engine.errors import ArbError
from engine.execution import states
from engine.execution.executor import Execution, Executor
from engine.execution.model import (
    AuditEvent,
    AuditKind,
    FillRecord,
    OrderIntent,
    OrderRecord,
    OrderState,
    SettlementRecord,
)
from engine.execution.states import OrderStateError
from engine.store.base import DuplicateOrderError, Store, StoreError

log = logging.getLogger(__name__)


class Verdict(Protocol):
    """A breaker decision: ``allowed``, the ``rule`` that decided, and its numbers in ``detail``."""

    @property
    def allowed(self) -> bool: ...

    @property
    def rule(self) -> str: ...

    @property
    def detail(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Refusal:
    """A decision the manager makes itself, before the breaker is asked (an unknown order on the market)."""

    rule: str
    detail: str
    allowed: bool = False


class Guard(Protocol):
    """The breaker as the manager sees it: decide, then learn what happened (each call persists state)."""

    async def check(self, intent: OrderIntent, context: Any, now: datetime) -> Verdict:
        """Allow or reject ``intent``; ``context`` is what the caller measured (data ages, exposures...).
        Any state change the decision implies (a held signal, a new day) is persisted before it returns."""
        ...

    async def on_sent(self, intent: OrderIntent, now: datetime) -> None: ...

    async def on_fill(self, fill: FillRecord, record: OrderRecord, now: datetime) -> None: ...

    async def on_settlement(self, settlement: SettlementRecord, now: datetime) -> None:
        """A market settled: what it realised counts towards the day and the losing streak."""
        ...

    async def on_legged(self, event_ticker: str, detail: str, now: datetime, legs: Sequence[str] = ()) -> None:
        """A Kalshi-only arbitrage filled on some legs and not others: only reductions on that event until
        its ``legs`` (the markets of the arbitrage) are flat or hedged again."""
        ...


FillListener = Callable[[FillRecord, OrderRecord], object]
"""Told of every fill the store did not hold before, whichever path brought it (the executor's answer, the
WebSocket account feed, REST reconciliation), so a ledger kept elsewhere sees each fill exactly once."""


@dataclass(frozen=True, slots=True)
class Placement:
    """What became of one intent: the breaker's verdict and, when it was sent, the order as stored."""

    intent: OrderIntent
    allowed: bool
    rule: str
    detail: str
    record: OrderRecord | None = None

    @property
    def filled(self) -> int:
        return 0 if self.record is None else self.record.filled_count


@dataclass(frozen=True, slots=True)
class LegsResult:
    """The legs of one Kalshi-only arbitrage; ``legged`` when they did not all fill the same count."""

    placements: tuple[Placement, ...]
    legged: bool
    detail: str = ""


class OrderManager:
    """Places orders through one executor (paper or live) under one guard, persisting into ``store``."""

    def __init__(self, store: Store, executor: Executor, guard: Guard, now: Callable[[], datetime]) -> None:
        self.store = store
        self.executor = executor
        self.guard = guard
        self._now = now
        self._pending: dict[str, dict[str, OrderState]] = {}
        self._by_exchange_id: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._order_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._listeners: list[FillListener] = []

    @property
    def mode(self) -> str:
        return self.executor.mode.value

    async def load(self) -> None:
        """Rebuild the in-memory indexes (unknown orders per market, exchange ids) from the store."""
        self._pending.clear()
        for record in await self.store.orders():
            self._index(record)

    def unknown_on(self, ticker: str) -> frozenset[str]:
        """``client_order_id`` of the orders on ``ticker`` whose outcome is not known yet (in flight or
        UNKNOWN): no new order goes to that market until they are resolved."""
        return frozenset(self._pending.get(ticker, ()))

    def client_order_id_of(self, exchange_order_id: str) -> str | None:
        return self._by_exchange_id.get(exchange_order_id)

    def listen(self, listener: FillListener) -> None:
        """Call ``listener`` for every new fill from now on (a listener that raises is logged, not fatal)."""
        self._listeners.append(listener)

    def _order_lock(self, client_order_id: str) -> asyncio.Lock:
        """One writer per order: the executor's answer, a WebSocket message and a REST reconciliation of the
        same order may arrive together, and each must build on what the other wrote."""
        lock = self._order_locks.get(client_order_id)
        if lock is None:
            lock = asyncio.Lock()
            self._order_locks[client_order_id] = lock
        return lock

    async def _latest(self, record: OrderRecord) -> OrderRecord:
        """The order as the store holds it now (another path may have moved it since ``record`` was read)."""
        stored = await self.store.order(record.client_order_id)
        return record if stored is None else stored

    def _index(self, record: OrderRecord) -> None:
        ticker = record.intent.ticker
        if record.exchange_order_id:
            self._by_exchange_id[record.exchange_order_id] = record.client_order_id
        pending = self._pending.setdefault(ticker, {})
        if record.state in (OrderState.UNKNOWN, OrderState.SENT, OrderState.NEW):
            pending[record.client_order_id] = record.state
        else:
            pending.pop(record.client_order_id, None)
        if not pending:
            self._pending.pop(ticker, None)

    async def _audit_decision(self, intent: OrderIntent, verdict: Verdict, now: datetime) -> None:
        data = {
            "client_order_id": intent.client_order_id,
            "allowed": verdict.allowed,
            "rule": verdict.rule,
            "detail": verdict.detail,
            "side": intent.side.value,
            "action": intent.action.value,
            "count": intent.count,
            "limit_price": str(intent.limit_price),
            "mode": intent.mode.value,
        }
        await self.store.append_audit(AuditEvent(now, AuditKind.DECISION, intent.ticker, data))

    async def place(self, intent: OrderIntent, context: Any = None) -> Placement:
        """Decide, commit, send, record. Never raises for a refusal: the placement says what happened."""
        lock = self._locks.setdefault(intent.ticker, asyncio.Lock())
        async with lock:  # one decision per market at a time: the breaker sees every earlier order
            now = self._now()
            if intent.mode.value != self.mode:
                raise ArbError(f"order {intent.client_order_id} is {intent.mode.value} but the executor is {self.mode}")
            pending = {c: s for c, s in self._pending.get(intent.ticker, {}).items() if c != intent.client_order_id}
            verdict: Verdict
            if pending:
                unknown = sorted(c for c, s in pending.items() if s is OrderState.UNKNOWN)
                rule = "unknown_orders" if unknown else "order_in_flight"
                first = (unknown or sorted(pending))[0]
                what = "of unknown outcome" if unknown else "awaiting acknowledgement"
                verdict = Refusal(rule, f"{len(pending)} order(s) on {intent.ticker} {what}: {first}")
            else:
                verdict = await self.guard.check(intent, context, now)
            await self._audit_decision(intent, verdict, now)
            if not verdict.allowed:
                return Placement(intent, False, verdict.rule, verdict.detail)
            try:
                record = await self.store.record_intent(intent)
            except DuplicateOrderError as exc:
                # the same signal and attempt again: whatever happened to the first send stands
                log.warning("%s", exc)
                return Placement(intent, False, "duplicate", str(exc), exc.existing)
            record = await self._save(record, states.sent(record, self._now()))
            await self.guard.on_sent(intent, self._now())
        execution = await self.executor.execute(intent)
        record = await self.apply(record, execution)
        return Placement(intent, True, verdict.rule, verdict.detail, record)

    async def place_legs(self, intents: Sequence[OrderIntent], contexts: Sequence[Any] | None = None) -> LegsResult:
        """Send the legs of a Kalshi-only arbitrage together, each with its own breaker context. If they did
        not all fill the same count the position is LEGGED: the breaker (which audits it) moves that event to
        REDUCING until its legs are flat or hedged."""
        if not intents:
            raise ValueError("an arbitrage needs at least one leg")
        events = {i.event_ticker for i in intents}
        if len(events) != 1:
            raise ValueError(f"the legs of one arbitrage must share an event, got {sorted(events)}")
        per_leg = list(contexts) if contexts is not None else [None] * len(intents)
        if len(per_leg) != len(intents):
            raise ValueError(f"{len(intents)} legs but {len(per_leg)} breaker contexts")
        placements = tuple(await asyncio.gather(*(self.place(i, c) for i, c in zip(intents, per_leg, strict=True))))
        filled = [p.filled for p in placements]
        if len(set(filled)) == 1:
            return LegsResult(placements, False)
        event = intents[0].event_ticker
        detail = "legged: " + ", ".join(f"{p.intent.ticker} {p.filled}/{p.intent.count}" for p in placements)
        await self.guard.on_legged(event, detail, self._now(), tuple(i.ticker for i in intents))
        return LegsResult(placements, True, detail)

    async def _save(self, before: OrderRecord, after: OrderRecord) -> OrderRecord:
        if after != before:
            await self.store.update_order(after)
            self._index(after)
        return after

    async def apply(self, record: OrderRecord, execution: Execution) -> OrderRecord:
        """Carry an executor's answer into the store: acknowledgement, each new fill, then the state.

        ``record`` names the order; what is applied builds on the order as stored now, so an answer that
        overtook another (a WebSocket fill before the REST acknowledgement) is never undone."""
        async with self._order_lock(record.client_order_id):
            return await self._apply(await self._latest(record), execution)

    async def _apply(self, record: OrderRecord, execution: Execution) -> OrderRecord:
        now = self._now()
        if execution.exchange_order_id is not None and execution.state is not OrderState.REJECTED:
            record = await self._save(record, states.acked(record, execution.exchange_order_id, now))
        for fill in execution.fills:
            record = await self._add_fill(record, fill)
        target = execution.state
        if target is OrderState.UNKNOWN:
            if record.state is not OrderState.UNKNOWN and states.can_move(record.state, OrderState.UNKNOWN):
                record = await self._save(record, states.move(record, OrderState.UNKNOWN, now, reason=execution.reason))
        elif target.terminal:
            if target is OrderState.FILLED and record.remaining > 0:
                log.warning(
                    "order %s filled at the exchange; waiting for %d contracts of fills",
                    record.client_order_id,
                    record.remaining,
                )
            elif not record.state.terminal:
                record = await self._save(record, states.close(record, target, now, reason=execution.reason))
        return record

    async def add_fill(self, record: OrderRecord, fill: FillRecord) -> OrderRecord:
        """Record one fill once (by ``fill_id``) and move the order; a known fill changes nothing."""
        async with self._order_lock(record.client_order_id):
            return await self._add_fill(await self._latest(record), fill)

    async def _add_fill(self, record: OrderRecord, fill: FillRecord) -> OrderRecord:
        now = self._now()
        try:
            updated = states.apply_fill(record, fill, now)  # checked before it is committed
        except OrderStateError:
            if await self._known_fill(fill):
                return record  # seen before: it is already counted in the totals that refuse it now
            log.exception("fill %s does not fit order %s", fill.fill_id, record.client_order_id)
            raise
        try:
            if not await self.store.record_fill(fill):
                return record
        except StoreError:
            if await self._known_fill(fill):
                return record
            raise
        record = await self._save(record, updated)
        await self.guard.on_fill(fill, record, now)
        for listener in self._listeners:
            try:
                listener(fill, record)
            except Exception:  # a view that cannot take the fill must not lose it for the store
                log.exception("fill listener failed on fill %s", fill.fill_id)
        return record

    async def _known_fill(self, fill: FillRecord) -> bool:
        """True when the store holds this fill already, as the same execution. The WebSocket and REST report
        one fill's time differently (when the message was sent, when the trade happened), so only what was
        traded is compared; a fill id with a different count, price or fee is an error, not a duplicate."""
        for known in await self.store.fills(client_order_id=fill.client_order_id):
            if known.fill_id == fill.fill_id:
                if _traded(known) != _traded(fill):
                    raise StoreError(f"fill {fill.fill_id}: reported as {_traded(fill)}, recorded as {_traded(known)}")
                return True
        return False

    async def record_settlement(self, settlement: SettlementRecord) -> bool:
        """Commit a market's settlement once and let the breaker count what it realised; False when the
        store already held it (then nothing is counted again)."""
        if not await self.store.record_settlement(settlement):
            return False
        await self.guard.on_settlement(settlement, self._now())
        return True

    async def resolve(self, record: OrderRecord) -> OrderRecord:
        """Ask the venue what became of an order in SENT / UNKNOWN (or NEW after a crash) and record it."""
        async with self._order_lock(record.client_order_id):
            record = await self._latest(record)
            if record.state is OrderState.NEW:
                now = self._now()
                record = await self._save(
                    record, states.move(record, OrderState.UNKNOWN, now, reason="found NEW on restart")
                )
        execution = await self.executor.resolve(record)
        return await self.apply(record, execution)

    async def resolve_pending(self) -> list[OrderRecord]:
        """Resolve every order the store holds as NEW, SENT or UNKNOWN; the ones still unknown stay blocking."""
        pending = await self.store.orders(states=(OrderState.NEW, OrderState.SENT, OrderState.UNKNOWN))
        return [await self.resolve(r) for r in pending]

    async def cancel(self, record: OrderRecord) -> OrderRecord:
        """Cancel one open order and record whatever the venue says it became."""
        execution = await self.executor.cancel(record)
        return await self.apply(record, execution)


def _traded(fill: FillRecord) -> tuple[object, ...]:
    return (fill.ticker, fill.side, fill.action, fill.count, fill.price, fill.fee, fill.mode)
