"""Paper positions settle when the exchange settles their market, over the simulator: the ``market_lifecycle_v2``
messages reach the running paper engine, the position is paid once (store, breaker counters and the one
ledger the desk and ``status`` read), an NFL-style tie pays $0.50, and a restart counts nothing twice."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from engine.connectors.kalshi.messages import MarketLifecycle
from engine.detection.signals import Side
from engine.execution.model import AuditKind, Mode
from engine.runtime.assemble import build_engine
from engine.sim import Simulator
from engine.store import open_store
from tests.integration.clientkit import eventually, kalshi_client
from tests.integration.runtime_kit import running_engine, sim_settings

pytestmark = pytest.mark.integration


async def test_paper_positions_settle_once_and_survive_a_restart(sim: Simulator, tmp_path: Path) -> None:
    async with running_engine(sim, tmp_path) as run:
        engine = run.engine
        desk, guard = engine.desk, engine.desk.guard

        def held() -> list[str]:
            return sorted(t for t, p in desk.ledger.positions.items() if p.count > 0)

        await eventually(lambda: len(held()) >= 2, timeout_s=30)
        await engine.halt("test: positions held still while their markets settle")
        lost, tied = held()[:2]
        store = desk.manager.store

        # a loss: the held side is the one the exchange says did not happen
        before = desk.ledger
        position = before.position(lost)
        assert position is not None and position.side is not None
        day_before, streak_before = guard.state.day.realised_pnl, guard.state.consecutive_losses
        sim.exchange.settle(lost, "no" if position.side is Side.YES else "yes", sim.clock.now())
        await eventually(lambda: (p := desk.ledger.position(lost)) is not None and p.settled, timeout_s=10)

        after = desk.ledger
        settled = after.position(lost)
        assert settled is not None and settled.count == 0 and settled.side is None
        assert settled.settlement_value == (D(0) if position.side is Side.YES else D(1))
        assert settled.realised == position.realised - position.cost
        assert after.cash == before.cash  # it paid nothing
        assert guard.state.day.realised_pnl == day_before - position.cost
        assert guard.state.consecutive_losses == streak_before + 1
        assert lost in guard.state.day.settled
        assert desk.ledger is guard.ledger  # one ledger: what status shows is what the breaker counts
        records = [s for s in await store.settlements() if s.ticker == lost]
        assert len(records) == 1 and records[0].revenue == 0
        audit = await store.audit(kinds=(AuditKind.SETTLEMENT,))
        assert [e.ticker for e in audit].count(lost) == 1
        snapshot = engine.build_snapshot()
        assert snapshot.positions.count == len(held())

        # the same messages again (a reconnect replays them): nothing moves
        again = MarketLifecycle(0, lost, "determined", result="yes", settlement_value=D(1))
        assert await engine.paper_settler.on_lifecycle(again) is None  # type: ignore[union-attr]
        assert desk.ledger.cash == after.cash and guard.state.consecutive_losses == streak_before + 1

        # an NFL tie: the simulator settles only yes or no, so the exchange's tie message comes as sent
        tie_position = desk.ledger.position(tied)
        assert tie_position is not None
        cash_before = desk.ledger.cash
        tie = MarketLifecycle(0, tied, "determined", result="", settlement_value=D("0.5000"))
        record = await engine.paper_settler.on_lifecycle(tie)  # type: ignore[union-attr]
        assert record is not None and record.value == D("0.5") and record.revenue == D("0.5") * tie_position.count
        assert desk.ledger.cash == cash_before + record.revenue
        paid = desk.ledger.position(tied)
        assert paid is not None and paid.realised == tie_position.realised + record.revenue - tie_position.cost

        cash, realised = desk.ledger.cash, desk.pnl(lambda t, s: None).realised
        counters = (guard.state.day.realised_pnl, guard.state.consecutive_losses, guard.state.day.settled)

    store = await open_store(tmp_path / "engine.db")
    rest = kalshi_client(sim)
    try:
        restarted, reconciled = await build_engine(sim_settings(sim), store, sim.clock, Mode.PAPER, rest=rest)
        assert reconciled.ok, reconciled
        desk, guard = restarted.desk, restarted.desk.guard
        assert desk.ledger.cash == cash
        assert desk.pnl(lambda t, s: None).realised == realised
        assert (guard.state.day.realised_pnl, guard.state.consecutive_losses, guard.state.day.settled) == counters
        for ticker in (lost, tied):
            p = desk.ledger.position(ticker)
            assert p is not None and p.settled and p.count == 0
        assert sorted(s.ticker for s in await store.settlements() if s.ticker in {lost, tied}) == sorted([lost, tied])
        assert restarted.paper_settler is not None
        assert await restarted.paper_settler.on_lifecycle(MarketLifecycle(0, lost, "settled")) is None
        reconcile = [e.data for e in await store.audit(kinds=(AuditKind.RECONCILE,))]
        assert reconcile[-1]["settlements_added"] == 0
    finally:
        await rest.aclose()
        await store.close()
