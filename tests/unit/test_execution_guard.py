"""The breaker guard's memory across a restart (SQLite reopened): what a fill or a settlement realises after
the restart is measured against the positions the store's fills rebuild, and a legged event still knows its
legs, so it leaves REDUCING once they are hedged."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

from execution_kit import T0, intent

from engine.execution import states
from engine.execution.guard import BreakerGuard
from engine.execution.model import Action, FillRecord, Mode, OrderIntent, OrderRecord, SettlementRecord
from engine.risk.limits import RiskLimits
from engine.store.base import Store
from engine.store.factory import open_store

LIMITS = RiskLimits(max_consecutive_losses=2)
A = "KXNBAGAME-26NOV25BOSNYK-BOS"
B = "KXNBAGAME-26NOV25BOSNYK-NYK"
EVENT = "KXNBAGAME-26NOV25BOSNYK"


def fill(order: OrderIntent, fill_id: str, count: int, price: str, fee: str = "0.02") -> FillRecord:
    return FillRecord(fill_id, order.client_order_id, order.ticker, order.side, order.action, count, D(price), D(fee),
                      T0 + timedelta(minutes=1), Mode.PAPER)  # fmt: skip


async def stored(store: Store, order: OrderIntent, *fills: FillRecord) -> OrderRecord:
    """An order and its fills as a run before the restart left them in the store."""
    record = states.sent(await store.record_intent(order), T0)
    for f in fills:
        assert await store.record_fill(f)
        record = states.apply_fill(record, f, T0)
    await store.update_order(record)
    return record


async def test_a_sell_after_a_restart_realises_against_the_rebuilt_cost(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    buy = intent(A, count=10, limit_price=D("0.60"))
    await stored(store, buy, fill(buy, "b1", 10, "0.60"))
    await store.close()

    store = await open_store(tmp_path / "s.db")
    try:
        guard = await BreakerGuard.open(store, LIMITS, T0, mode=Mode.PAPER)
        sell = intent(A, count=4, limit_price=D("0.45"), action=Action.SELL, signal_key="exit")
        record = await stored(store, sell)
        await guard.on_fill(fill(sell, "s1", 4, "0.45", "0.03"), record, T0 + timedelta(minutes=2))
        assert guard.state.day.realised_pnl == D("-0.60") - D("0.03")  # 4 x (0.45 - 0.60), then the fee
        position = guard.ledger.position(A)
        assert position is not None and position.yes_position == 6
    finally:
        await store.close()


async def test_a_settlement_counts_only_a_market_that_was_traded(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    try:
        guard = await BreakerGuard.open(store, LIMITS, T0)
        await guard.on_settlement(SettlementRecord(B, EVENT, D(0), T0 + timedelta(minutes=3)), T0)
        assert guard.state.consecutive_losses == 0 and guard.state.day.realised_pnl == 0
        buy = intent(A, count=5, limit_price=D("0.40"))
        record = await stored(store, buy)
        await guard.on_fill(fill(buy, "b1", 5, "0.40", "0.05"), record, T0)
        await guard.on_settlement(SettlementRecord(A, EVENT, D(0), T0 + timedelta(minutes=3)), T0)
        assert guard.state.consecutive_losses == 1
        assert guard.state.day.realised_pnl == D("-2.00") - D("0.05")
    finally:
        await store.close()


async def test_a_legged_event_keeps_its_legs_across_a_restart_and_clears_once_hedged(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    first = intent(A, count=3, limit_price=D("0.50"), signal_key="arb")
    await stored(store, first, fill(first, "a1", 3, "0.50"))
    guard = await BreakerGuard.open(store, LIMITS, T0, mode=Mode.PAPER)
    await guard.on_legged(EVENT, f"legged: {A} 3/3, {B} 0/3", T0, (A, B))
    assert EVENT in guard.legged
    await store.close()

    store = await open_store(tmp_path / "s.db")
    try:
        guard = await BreakerGuard.open(store, LIMITS, T0, mode=Mode.PAPER)
        assert guard.legs == {EVENT: (A, B)} and EVENT in guard.legged
        second = intent(B, count=3, limit_price=D("0.45"), signal_key="arb")
        record = await stored(store, second)
        await guard.on_fill(fill(second, "b1", 2, "0.45"), record, T0)
        assert EVENT in guard.legged  # 3 against 2: still legged
        await guard.on_fill(fill(second, "b2", 1, "0.45"), record, T0)
        assert EVENT not in guard.legged and guard.legs == {}  # 3 and 3: hedged
    finally:
        await store.close()
