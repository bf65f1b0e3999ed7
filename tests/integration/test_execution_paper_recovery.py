"""Restart recovery in PAPER mode, through the runtime's own assembly (``build_engine``): a process that died
with one paper order filled and another committed but never answered starts again with the interrupted order
resolved (cancelled: paper orders live in the process), its market free again, the positions rebuilt from
the store's fills in both the desk's ledger and the breaker's, and a halt it had still in force."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

from execution_kit import intent

from engine.clock import PinnedClock
from engine.config.settings import Settings
from engine.execution import states
from engine.execution.model import AuditKind, Mode, OrderState
from engine.execution.proposals import proposal_for
from engine.markets.kalshi import Level, Orderbook
from engine.pricing.fees import DEFAULT_FEES
from engine.risk.state import BreakerMode
from engine.runtime.assemble import build_engine
from engine.store.factory import open_store

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
FILLED = "KXNBAGAME-26NOV25BOSNYK-BOS"
CUT = "KXNBAGAME-26NOV25BOSNYK-NYK"


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


async def test_paper_restart_resolves_the_interrupted_order_and_rebuilds_positions(tmp_path: Path) -> None:
    db = tmp_path / "paper.db"
    clock = PinnedClock(T0)
    store = await open_store(db)
    engine, first = await build_engine(settings(), store, clock, Mode.PAPER)
    assert first.ok
    manager, guard = engine.desk.manager, engine.desk.guard
    engine.pipeline.books[FILLED] = Orderbook(FILLED, (), (Level(D("0.45"), D(20)),))  # YES ask 0.55
    order = intent(FILLED, count=6, limit_price=D("0.55"), created_at=clock.now())
    placed = await manager.place(order, proposal_for(order, DEFAULT_FEES, book_at=clock.now(), shard_cash=D(1000)))
    assert placed.record is not None and placed.record.state is OrderState.FILLED, placed.detail
    # the process commits another paper order and dies before the executor answers
    cut = intent(CUT, count=3, limit_price=D("0.40"), created_at=clock.now(), signal_key="cut")
    record = await store.record_intent(cut)
    await store.update_order(states.sent(record, clock.now()))
    await engine.desk.kill_switch.halt("operator pause before the crash")
    await store.close()  # no clean shutdown: nothing else is written

    store = await open_store(db)
    try:
        again, reconciled = await build_engine(settings(), store, clock, Mode.PAPER)
        assert reconciled.ok and reconciled.resolved == 1, reconciled
        interrupted = await store.order(cut.client_order_id)
        assert interrupted is not None and interrupted.state is OrderState.CANCELLED
        assert "restart" in interrupted.reason
        assert again.desk.manager.unknown_on(CUT) == frozenset()  # its market is free again

        fills = await store.fills(ticker=FILLED)
        held = sum(f.count for f in fills)
        assert held == 6
        desk_position = again.desk.ledger.position(FILLED)
        breaker_position = again.desk.guard.ledger.position(FILLED)
        assert desk_position is not None and desk_position.yes_position == held
        assert breaker_position is not None and breaker_position.yes_position == held
        assert again.desk.ledger.cash == settings().trading_bankroll - sum(
            (f.price * f.count + f.fee for f in fills), D(0)
        )
        assert again.desk.guard.mode is BreakerMode.HALTED  # the halt survived the crash
        assert again.desk.guard.state.day.contracts == guard.state.day.contracts == 6
        reconcile = [e.data for e in await store.audit(kinds=(AuditKind.RECONCILE,))]
        assert reconcile[-1]["ok"] is True and reconcile[-1]["mode"] == "paper" and reconcile[-1]["resolved"] == 1
    finally:
        await store.close()
