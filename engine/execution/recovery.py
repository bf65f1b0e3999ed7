"""Restart recovery: before any new order, make the store agree with the exchange or start HALTED.

Steps: rebuild the manager's indexes from the store; resolve every NEW / SENT / UNKNOWN order by its
``client_order_id``; read orders, fills, positions, settlements and balance from the exchange; record the
fills and settlements that happened while the process was down; then compare. Positions are the test that
matters: the store's fills and settlements must give exactly the exchange's position in every market. A
position or resting order the store cannot explain halts the breaker (fail closed) with the reason; an order
whose outcome is still unknown only blocks its own market.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from engine.connectors.errors import ApiError, TransportError
from engine.connectors.kalshi.models import Settlement
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.detection.signals import Side
from engine.execution.live import fill_record
from engine.execution.manager import OrderManager
from engine.execution.model import (
    Action,
    AuditEvent,
    AuditKind,
    FillRecord,
    OrderRecord,
    OrderState,
    SettlementRecord,
)
from engine.money import ONE, ZERO, money_str
from engine.store.base import StoreError

log = logging.getLogger(__name__)


class FailClosed(Protocol):
    async def fail_closed(self, reason: str, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """``ok`` when every position and resting order is explained; ``mismatches`` says what is not."""

    resolved: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    fills_added: int = 0
    settlements_added: int = 0
    positions: dict[str, int] = field(default_factory=dict)
    mismatches: tuple[str, ...] = ()
    balance: Decimal | None = None

    @property
    def ok(self) -> bool:
        return not self.mismatches


def signed(fill: FillRecord) -> int:
    """A fill's effect on the signed YES position (Kalshi's ``position_fp``: YES positive, NO negative)."""
    long_yes = (fill.side is Side.YES) == (fill.action is Action.BUY)
    return fill.count if long_yes else -fill.count


def positions_from(fills: Iterable[FillRecord], settled: Iterable[str]) -> dict[str, int]:
    """Signed position per market from our fills; a settled market holds nothing."""
    out: dict[str, int] = {}
    for f in fills:
        out[f.ticker] = out.get(f.ticker, 0) + signed(f)
    for ticker in settled:
        out[ticker] = 0
    return {t: p for t, p in out.items() if p != 0}


def settlement_record(s: Settlement, now: datetime) -> SettlementRecord:
    """What one YES contract paid: 1 or 0 by result, else (a tie, a scalar) revenue per contract held."""
    revenue = Decimal(s.revenue_cents) / 100
    if s.market_result == "yes":
        value = ONE
    elif s.market_result == "no":
        value = ZERO
    else:
        held = s.yes_count + s.no_count
        value = revenue / held if held > 0 else ZERO
    return SettlementRecord(s.ticker, s.event_ticker, value, s.settled_time or now, revenue)


async def recover(
    manager: OrderManager, rest: KalshiRestClient, breaker: FailClosed, now: Callable[[], datetime]
) -> RecoveryReport:
    """Run every step; the report is also written to the audit log as one ``reconcile`` event."""
    store = manager.store
    await manager.load()
    await _repair_totals(manager)
    resolved = await manager.resolve_pending()
    mismatches: list[str] = []
    known = {r.exchange_order_id: r for r in await store.orders() if r.exchange_order_id}
    # fills the process missed while it was down (or whose record it never finished)
    added = 0
    for fill in sorted(await rest.fills(), key=lambda f: (f.created_time or now(), f.fill_id)):
        record = known.get(fill.order_id)
        if record is None:
            continue  # judged by the position comparison below
        current = await store.order(record.client_order_id)
        assert current is not None
        before = current.filled_count
        updated = await manager.add_fill(current, fill_record(current.intent, fill, now()))
        if updated.filled_count > before:
            added += 1
    settlements_added = 0
    for s in await rest.settlements():
        try:
            if await manager.record_settlement(settlement_record(s, now())):
                settlements_added += 1
        except StoreError as exc:  # a settlement that contradicts ours is a mismatch, not a crash
            mismatches.append(f"settlement {s.ticker}: {exc}")
    # resting orders: every one must be ours, and ours must agree
    for order in await rest.orders(status="resting"):
        record = known.get(order.order_id)
        if record is None:
            owner = await store.order(order.client_order_id) if order.client_order_id else None
            if owner is None:
                mismatches.append(f"resting order {order.order_id} on {order.ticker} is not in the store")
    for record in await store.orders(states=(OrderState.ACKED, OrderState.PARTIAL)):
        await manager.resolve(record)
    settled = [s.ticker for s in await store.settlements()]
    ours = positions_from(await store.fills(), settled)
    theirs = {p.ticker: p.position for p in await rest.positions() if p.position != 0}
    for ticker in sorted(set(ours) | set(theirs)):
        mine, exchange = ours.get(ticker, 0), theirs.get(ticker, Decimal(0))
        if Decimal(mine) != exchange:
            mismatches.append(f"position {ticker}: store {mine}, exchange {exchange}")
    balance = None
    try:
        balance = (await rest.balance()).balance
    except (ApiError, TransportError) as exc:  # the balance is reported, not required, to reconcile
        log.warning("balance not read during recovery: %s", exc)
    unknown = tuple(r.client_order_id for r in await store.orders(states=(OrderState.UNKNOWN,)))
    report = RecoveryReport(
        resolved=tuple(r.client_order_id for r in resolved),
        unknown=unknown,
        fills_added=added,
        settlements_added=settlements_added,
        positions=ours,
        mismatches=tuple(mismatches),
        balance=balance,
    )
    data: dict[str, object] = {
        "ok": report.ok,
        "resolved": list(report.resolved),
        "unknown": list(unknown),
        "fills_added": added,
        "settlements_added": settlements_added,
        "positions": {t: p for t, p in sorted(ours.items())},
        "mismatches": list(report.mismatches),
        "balance": None if balance is None else money_str(balance),
    }
    await store.append_audit(AuditEvent(now(), AuditKind.RECONCILE, None, data))
    if not report.ok:
        reason = f"reconciliation: {len(mismatches)} mismatch(es): {mismatches[0]}"
        log.error("%s", reason)
        await breaker.fail_closed(reason, now())
    return report


async def _repair_totals(manager: OrderManager) -> None:
    """An order whose fill was committed but whose totals were not (a crash between the two writes) gets
    its totals from its fills again."""
    store = manager.store
    for record in await store.orders(states=(OrderState.NEW, OrderState.SENT, OrderState.UNKNOWN,
                                             OrderState.ACKED, OrderState.PARTIAL)):  # fmt: skip
        fills = await store.fills(client_order_id=record.client_order_id)
        count = sum(f.count for f in fills)
        if count == record.filled_count:
            continue
        cost = sum((f.price * f.count for f in fills), ZERO)
        fees = sum((f.fee for f in fills), ZERO)
        fixed: OrderRecord = replace(record, filled_count=count, filled_cost=cost, fees=fees)
        await store.update_order(fixed)
