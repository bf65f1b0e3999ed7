"""Pilot tests of the dashboard over a frozen demo engine (the real engine, store and simulator over
loopback; both clocks stand still). Every key is pressed as an operator would and the engine, the store
and the simulator's exchange are checked, not the screen alone."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static

from arbtui.app.app import Dashboard, build_app
from arbtui.app.screens.confirm import ConfirmScreen
from arbtui.app.screens.detail import SignalDetailScreen
from arbtui.app.widgets.signals import SignalsTable
from engine.detection.signals import Side
from engine.execution.ids import client_order_id
from engine.execution.model import Action, Mode, OrderIntent, OrderState, TimeInForce
from engine.execution.proposals import proposal_for
from engine.risk.state import BreakerMode
from engine.runtime.dashboard import DashboardSnapshot, SignalDetail
from engine.runtime.dashboard_build import key_text
from tests.ui.kit import Demo, frozen_demo

pytestmark = pytest.mark.integration

SIZE = (160, 50)


def quiet(demo: Demo) -> Dashboard:
    """The dashboard pulling only on mount and after each command: the test says when the picture moves."""
    return build_app(demo.engine, owns_engine=True, refresh_hz=0)


def table(app: Dashboard) -> SignalsTable:
    return app.query_one(SignalsTable)


def live_keys(demo: Demo) -> set[str]:
    return {key_text(k) for k in demo.engine.pipeline.live}


def shown_live(app: Dashboard) -> set[str]:
    return {k for k, row in table(app).shown.items() if not row.gone}


async def test_signals_appear_with_the_engine_s_numbers(tmp_path: Path) -> None:
    async with frozen_demo(tmp_path) as demo:
        assert demo.engine.pipeline.live, "the frozen demo has live signals"
        app = build_app(demo.engine, owns_engine=True)  # pulling at 10 Hz
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert set(table(app).row_keys()) == live_keys(demo)
            signal = next(iter(demo.engine.pipeline.live.values()))
            row = table(app).shown[key_text(signal.key)]
            assert (row.ask, row.count, row.ev) == (signal.ask, signal.count, signal.ev)
            pulls = app.pulls
            await pilot.pause(0.5)
            assert app.pulls > pulls, "the timer pulls the engine's snapshot by itself"


async def test_h_halts_and_no_order_is_placed_while_signals_keep_updating(tmp_path: Path) -> None:
    async with frozen_demo(tmp_path) as demo:
        app = quiet(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("h")
            await pilot.pause()
            assert demo.engine.desk.guard.mode is BreakerMode.HALTED
            assert app.latest is not None and app.latest.breaker_state == "HALTED"
            sent, orders = demo.engine.desk.sent, len(await demo.store.orders())
            before = live_keys(demo)
            for _ in range(12):
                await demo.step()
                if live_keys(demo) - before:
                    break
            new = live_keys(demo) - before
            assert new, "the simulator's steps brought new signals"
            await app.pull()
            assert shown_live(app) == live_keys(demo)
            assert demo.engine.desk.sent == sent
            assert len(await demo.store.orders()) == orders
            rules = {r.rule for r in app.latest.rejections}
            assert "halted" in rules


async def test_r_resumes_after_confirmation(tmp_path: Path) -> None:
    async with frozen_demo(tmp_path) as demo:
        app = quiet(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("h")
            await pilot.press("r")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")
            await pilot.pause()
            assert demo.engine.desk.guard.mode is BreakerMode.HALTED
            await pilot.press("r", "y")
            await pilot.pause()
            assert demo.engine.desk.guard.mode is BreakerMode.ACTIVE
            assert app.latest is not None and app.latest.breaker_state == "ACTIVE"


async def test_kill_after_confirmation_cancels_resting_orders_and_triggers_the_groups(tmp_path: Path) -> None:
    async with frozen_demo(tmp_path, Mode.LIVE, load=False) as demo:
        sim, engine = demo.sim, demo.engine
        game = next(g for g in sim.board.games if g.league == "nba")
        ticker = game.tickers[0]
        intent = OrderIntent(
            client_order_id=client_order_id("resting|test", 0), ticker=ticker, event_ticker=game.event_ticker,
            league=game.league, side=Side.YES, action=Action.BUY, count=3, limit_price=Decimal("0.02"),
            time_in_force=TimeInForce.GTC, mode=Mode.LIVE, created_at=sim.clock.now(), signal_key="resting|test",
            attempt=0, exchange_index=sim.exchange.shard_of(ticker),
        )  # fmt: skip
        balance = await demo.rest.balance()
        fees = (await demo.rest.series(ticker.split("-")[0])).fees
        placed = await engine.desk.manager.place(intent, proposal_for(intent, fees, book_at=sim.clock.now(),
                                                                      shard_cash=balance.balance))  # fmt: skip
        assert placed.record is not None and placed.record.state is OrderState.ACKED, placed.detail
        groups = engine.desk.manager.executor.groups.current  # type: ignore[attr-defined]
        assert groups
        await engine.refresh_orders()
        engine.build_snapshot()
        app = quiet(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("K")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            assert "cancel 1 resting order" in app.screen.question
            await pilot.press("y")
            await pilot.pause()
            assert engine.desk.guard.mode is BreakerMode.HALTED
            assert all(o.status != "resting" for o in sim.exchange.user_orders())
            assert all(sim.exchange.order_groups[g].triggered for g in groups.values())
            record = await demo.store.order(intent.client_order_id)
            assert record is not None and record.state is OrderState.CANCELLED
            assert app.latest is not None and any(a.kind == "kill" for a in app.latest.activity)


async def test_keys_1_to_4_change_the_engine_s_profile(tmp_path: Path) -> None:
    async with frozen_demo(tmp_path) as demo:
        app = quiet(demo)
        async with app.run_test(size=SIZE) as pilot:
            for key, name in (("1", "CONSERVATIVE"), ("3", "AGGRESSIVE"), ("4", "VERY_AGGRESSIVE"),
                              ("2", "STANDARD")):  # fmt: skip
                await pilot.press(key)
                await pilot.pause()
                demo.engine.apply_tick()  # the profile applies from the next evaluation
                assert demo.engine.pipeline.profile.name == name
                await app.pull()
                assert app.latest is not None and app.latest.profile == name
            await pilot.press("p")
            await pilot.pause()
            demo.engine.apply_tick()
            assert demo.engine.pipeline.profile.name == "AGGRESSIVE"


async def test_enter_shows_the_selected_signal_s_consensus(tmp_path: Path) -> None:
    async with frozen_demo(tmp_path) as demo:
        app = quiet(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("down")
            await pilot.pause()
            key = table(app).selected_key()
            assert key is not None
            await pilot.press("enter")
            await pilot.pause()
            await app.detail_settled()
            screen = app.screen
            assert isinstance(screen, SignalDetailScreen) and screen.row.key == key
            signal = next(s for k, s in demo.engine.pipeline.live.items() if key_text(k) == key)
            assert screen.detail is not None and screen.detail.books_agree == signal.books_agree
            assert {q.book for q in screen.detail.quotes if q.agrees} == set(signal.books)
            body = str(screen.query_one("#detail-body", Static).render())
            assert body  # rendered without error
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, SignalDetailScreen)


async def test_the_consensus_pane_follows_the_cursor_with_the_selected_signal_s_detail(tmp_path: Path) -> None:
    async with frozen_demo(tmp_path) as demo:
        app = quiet(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            first = table(app).selected_key()
            assert first is not None and app.detail is not None and app.detail_key == first  # mount waited
            await pilot.press(*["down"] * 3)
            await pilot.pause()
            await app.detail_settled()
            key = table(app).selected_key()
            assert key is not None and key != first
            assert app.detail is not None and app.detail_key == key == app.detail.key
            assert app.detail == await demo.engine.signal_detail(key)
            console = Console(width=200, record=True, file=io.StringIO())
            console.print(app.query_one("#consensus-body", Static).content)
            body = console.export_text()
            assert table(app).shown[key].market in body and "consensus" in body


async def test_filter_by_league_and_kind(tmp_path: Path) -> None:
    async with frozen_demo(tmp_path) as demo:
        app = quiet(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.latest is not None
            leagues = {r.league for r in app.latest.signals}
            league = sorted(leagues)[0]
            await pilot.press("slash", *league, "enter")
            await pilot.pause()
            assert demo.engine.desk.guard.mode is BreakerMode.ACTIVE  # typing "h" in a league name never halts
            expected = {r.key for r in app.latest.signals if r.league == league}
            assert set(table(app).row_keys()) == expected
            kind = app.latest.signals[0].kind
            app.set_filter(f"{league} nomatch-{kind}")
            assert table(app).row_keys() == []
            typed = f"{league} nomatch-{kind}"
            await pilot.press("slash", "end", *["backspace"] * len(typed), "enter")  # an empty filter shows all
            await pilot.pause()
            assert set(table(app).row_keys()) == {r.key for r in app.latest.signals}


async def test_q_exits_and_the_store_holds_every_fill(tmp_path: Path) -> None:
    async with frozen_demo(tmp_path) as demo:
        app = quiet(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.latest is not None
            shown = {f.fill_id for f in app.latest.fills}
            await pilot.press("q")
            await pilot.pause()
        assert app.return_value == 0
        stored = await demo.store.fills()
        assert stored and {f.fill_id for f in stored} == shown
        assert sum(f.count for f in stored) == sum(p.count for p in demo.engine.desk.ledger.positions.values())


async def test_the_snapshot_crosses_json_unchanged(tmp_path: Path) -> None:
    async with frozen_demo(tmp_path) as demo:
        snap = await demo.engine.dashboard()
        assert snap.signals and snap.fills
        assert DashboardSnapshot.from_json(snap.to_json()) == snap
        for row in snap.signals:  # each live signal's detail, asked for apart, crosses unchanged too
            detail = await demo.engine.signal_detail(row.key)
            assert detail is not None and detail.key == row.key and detail.ticker == row.ticker
            assert SignalDetail.from_json(detail.to_json()) == detail
        assert await demo.engine.signal_detail("edge|KXNOSUCH-1|yes") is None
        assert await demo.engine.signal_detail("not a key") is None
