"""LEGGED events in ``status``: the desk's view from the breaker guard and the one ledger, its JSON in both the
breaker and the positions sections, and the human lines (event, each leg with what it holds)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

from arbtui.commands.status import render_status
from engine.detection.signals import Side
from engine.execution.guard import BreakerGuard
from engine.execution.model import Action, FillRecord, Mode
from engine.portfolio import MarketRef, apply_fill
from engine.risk.limits import RiskLimits
from engine.runtime.desk import Desk
from engine.runtime.snapshot import BreakerView, PositionView
from engine.store import open_store

NOW = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
EVENT = "KXNBAGAME-26NOV29BOSNYK"
BOS, NYK = f"{EVENT}-BOS", f"{EVENT}-NYK"


async def test_a_legged_event_shows_its_legs_in_breaker_and_positions(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    try:
        guard = await BreakerGuard.open(store, RiskLimits(), NOW, start_cash=D(1000))
        fill = FillRecord("f1", "c1", BOS, Side.YES, Action.BUY, 5, D("0.40"), D("0.09"), NOW, Mode.PAPER)
        guard.ledger = apply_fill(guard.ledger, fill, MarketRef(EVENT, "NBA")).ledger
        await guard.on_legged(EVENT, "legged: BOS 5/5, NYK 0/5", NOW, (BOS, NYK))
        desk = Desk(None, guard, None, lambda: NOW)  # type: ignore[arg-type]
        legged = desk.legged()
        assert [(x.event_ticker, [(leg.ticker, leg.side, leg.count) for leg in x.legs]) for x in legged] == [
            (EVENT, [(BOS, "yes", 5), (NYK, None, 0)])
        ]
        positions = desk.positions()
        assert positions.count == 1 and positions.exposure == D("2.00") and positions.legged == legged
        breaker = BreakerView("REDUCING", "", {}, legged).to_json()
        status = {
            "mode": "PAPER",
            "breaker": breaker,
            "positions": {"count": 1, "exposure": "2.00", "legged": [x.to_json() for x in legged]},
        }
        assert breaker["legged"] == [
            {
                "event": EVENT,
                "reason": "legged: BOS 5/5, NYK 0/5",
                "legs": [{"ticker": BOS, "side": "yes", "count": 5}, {"ticker": NYK, "side": None, "count": 0}],
            }
        ]
        text = render_status(status, tmp_path, 1)
        assert f"{EVENT} LEGGED: {BOS} 5 YES; {NYK} flat" in text
        assert "1, exposure 2.00, 1 legged" in text
        assert PositionView().legged == ()
    finally:
        await store.close()
