"""The breaker's impure shell: holds the current :class:`BreakerState`, asks :mod:`engine.risk` for every
decision and transition, and persists each new state before the caller acts on it.

The rules and transitions are pure (``engine.risk``); this class only carries their results to the store,
so a halt survives a restart and a decision a week old can be read back with the state it was made in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.errors import ArbError
from engine.execution.model import AuditEvent, AuditKind, FillRecord, OrderIntent, OrderRecord
from engine.risk import transitions as t
from engine.risk.check import check
from engine.risk.limits import RiskLimits
from engine.risk.proposal import Decision, OrderProposal
from engine.risk.state import BreakerMode, BreakerState
from engine.store.base import Store

log = logging.getLogger(__name__)

Realised = Callable[[FillRecord], Decimal]
"""The gross P&L one fill closes (zero for a fill that opens or adds); the portfolio ledger knows it."""


def _opening_only(fill: FillRecord) -> Decimal:
    return Decimal(0)


class BreakerGuard:
    """``await BreakerGuard.open(store, limits, now)`` restores the persisted state (or starts ACTIVE)."""

    def __init__(self, store: Store, limits: RiskLimits, state: BreakerState, realised: Realised) -> None:
        self._store = store
        self.limits = limits
        self.state = state
        self._realised = realised

    @classmethod
    async def open(
        cls, store: Store, limits: RiskLimits, now: datetime, realised: Realised = _opening_only
    ) -> BreakerGuard:
        doc = await store.load_breaker()
        state = t.initial_state(limits, now) if doc is None else BreakerState.from_json(doc)
        guard = cls(store, limits, state, realised)
        await guard._set(t.roll_day(state, limits, now), now, force=True)
        return guard

    @property
    def mode(self) -> BreakerMode:
        return self.state.mode

    async def _set(self, state: BreakerState, now: datetime, *, force: bool = False) -> None:
        if state == self.state and not force:
            return
        before = self.state
        await self._store.save_breaker(state.to_json(), now)
        self.state = state
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
        await self._set(t.on_fill(self.state, self.limits, fill, self._realised(fill), now), now)

    async def on_legged(self, event_ticker: str, detail: str, now: datetime) -> None:
        await self._set(t.event_legged(self.state, event_ticker, detail), now)

    async def halt(self, reason: str, now: datetime) -> None:
        await self._set(t.halt(self.state, reason, now), now)

    async def kill(self, reason: str, now: datetime) -> None:
        await self._set(t.kill(self.state, reason, now), now)

    async def resume(self, now: datetime) -> None:
        await self._set(t.resume(self.state, now), now)

    async def fail_closed(self, reason: str, now: datetime) -> None:
        """Start HALTED with ``reason`` (restart recovery found what it cannot explain)."""
        await self._set(t.halt(self.state, reason, now, rule="reconcile"), now)
