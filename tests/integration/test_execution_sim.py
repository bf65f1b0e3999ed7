"""Execution against the simulator over sockets: paper and live agree on a frozen book, an order sent while
the connection resets is placed once, and kill cancels every resting order and triggers shard 0 and 3."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from clientkit import game_in
from execution_stack import open_stack, order_for

from engine.execution.model import AuditKind, Mode, OrderState, TimeInForce
from engine.risk.state import BreakerMode

pytestmark = pytest.mark.integration


def _walk_limit(sim: Any, ticker: str, levels: int) -> tuple[D, int]:
    """A limit reaching ``levels`` YES ask levels deep and a count that needs them all (plus one more)."""
    asks = sim.exchange.orderbook(ticker).asks("yes")
    assert len(asks) >= levels, f"{ticker} has {len(asks)} ask levels"
    limit = asks[levels - 1].price
    count = int(sum(lvl.count for lvl in asks[:levels])) - 1
    return limit, count


async def test_paper_and_live_fill_the_same_signal_the_same_way_on_a_frozen_book(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "nba").home_ticker
    limit, count = _walk_limit(sim, ticker, 2)
    paper = await open_stack(sim, tmp_path / "paper.db", Mode.PAPER)
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        await paper.load_book(ticker)
        on_paper = await paper.place(order_for(sim, ticker, Mode.PAPER, count=count, limit=limit))
        on_live = await live.place(order_for(sim, ticker, Mode.LIVE, count=count, limit=limit))
        assert on_paper.allowed and on_live.allowed, (on_paper.detail, on_live.detail)
        p_fills = await paper.store.fills(ticker=ticker)
        l_fills = await live.store.fills(ticker=ticker)
        assert len(p_fills) >= 2
        assert sorted((f.price, f.count, f.fee) for f in p_fills) == sorted((f.price, f.count, f.fee) for f in l_fills)
        assert on_paper.record is not None and on_live.record is not None
        p, lv = on_paper.record, on_live.record
        assert (p.state, p.filled_count, p.filled_cost, p.fees) == (lv.state, lv.filled_count, lv.filled_cost, lv.fees)
        assert p.state is OrderState.FILLED
        # and both equal what the exchange itself charged
        exchange_fee = sum((f.fee for f in sim.exchange.fills if f.ticker == ticker), D(0))
        assert lv.fees == exchange_fee
    finally:
        await paper.close()
        await live.close()


async def test_ioc_partial_and_out_of_limit_agree_too(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "nhl").away_ticker
    limit, count = _walk_limit(sim, ticker, 1)
    paper = await open_stack(sim, tmp_path / "paper.db", Mode.PAPER)
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        await paper.load_book(ticker)
        extra = count + 5  # more than the first level holds: partial, the rest cancelled
        p = (await paper.place(order_for(sim, ticker, Mode.PAPER, count=extra, limit=limit))).record
        lv = (await live.place(order_for(sim, ticker, Mode.LIVE, count=extra, limit=limit))).record
        assert p is not None and lv is not None
        assert (p.state, p.filled_count, p.fees) == (lv.state, lv.filled_count, lv.fees)
        assert p.state is OrderState.CANCELLED and 0 < p.filled_count < extra
    finally:
        await paper.close()
        await live.close()


async def test_order_sent_while_the_connection_resets_is_placed_exactly_once(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "nfl").home_ticker
    limit, count = _walk_limit(sim, ticker, 1)
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        intent = order_for(sim, ticker, Mode.LIVE, count=count, limit=limit)
        sim.faults.reset_after_next_order()
        placed = await live.place(intent)
        assert placed.record is not None and placed.record.state is OrderState.FILLED
        assert len(sim.exchange.orders_with_client_id(intent.client_order_id)) == 1
        # the same signal and attempt again (a retry by the caller) is not sent a second time
        again = await live.place(order_for(sim, ticker, Mode.LIVE, count=count, limit=limit))
        assert again.rule in ("duplicate", "order_in_flight") and not again.allowed
        assert len(sim.exchange.orders_with_client_id(intent.client_order_id)) == 1
        assert [r.client_order_id for r in await live.store.orders()] == [intent.client_order_id]
        position = sim.exchange.position(ticker)
        assert position is not None and position.position == count
        assert sum(f.count for f in await live.store.fills(ticker=ticker)) == count
    finally:
        await live.close()


async def test_kill_cancels_every_resting_order_and_triggers_the_groups_on_shard_0_and_3(
    sim: Any, tmp_path: Path
) -> None:
    shard0 = next(t for g in sim.board.games for t in g.tickers if sim.exchange.shard_of(t) == 0)
    shard3 = next(t for g in sim.board.games for t in g.tickers if sim.exchange.shard_of(t) == 3)
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        for ticker in (shard0, shard3):
            resting = order_for(sim, ticker, Mode.LIVE, count=3, limit=D("0.02"), tif=TimeInForce.GTC)
            placed = await live.place(resting)
            assert placed.record is not None and placed.record.state is OrderState.ACKED, placed.detail
        # an order resting at the exchange that this process did not place is cancelled too
        stray = sim.exchange.place_order(
            ticker=shard0, book_side="bid", price=D("0.01"), count=D(1), time_in_force="good_till_canceled",
            post_only=False, self_trade_prevention="taker_at_cross", client_order_id="placed-elsewhere",
            order_group_id="", expiration_ts=None, now=sim.clock.now(),
        )  # fmt: skip
        assert live.groups is not None
        groups = live.groups.current
        assert set(groups) == {0, 3}

        report = await live.kill.kill("operator test")

        assert report.complete, report
        assert all(o.status != "resting" for o in sim.exchange.user_orders())
        assert sim.exchange.orders[stray.order_id].status == "canceled"
        for shard, group_id in groups.items():
            group = sim.exchange.order_groups[group_id]
            assert group.triggered and group.exchange_index == shard
        assert {t.exchange_index for t in report.triggered} == {0, 3}
        assert live.guard.mode is BreakerMode.HALTED
        states = {r.intent.ticker: r.state for r in await live.store.orders()}
        assert states == {shard0: OrderState.CANCELLED, shard3: OrderState.CANCELLED}
        refused = await live.place(order_for(sim, shard0, Mode.LIVE, count=1, limit=D("0.02"), key="after-kill"))
        assert not refused.allowed and refused.rule == "halted"
        kinds = [e.kind for e in await live.store.audit()]
        assert AuditKind.KILL in kinds

        fresh = await live.kill.resume()
        assert live.guard.mode is BreakerMode.ACTIVE
        assert set(fresh) == {0, 3} and not set(fresh.values()) & set(groups.values())
        after = await live.place(
            order_for(sim, shard3, Mode.LIVE, count=1, limit=D("0.02"), key="resumed", tif=TimeInForce.GTC)
        )
        assert after.record is not None and after.record.state is OrderState.ACKED
        order = sim.exchange.orders_with_client_id(after.intent.client_order_id)[0]
        assert order.order_group_id == fresh[3]
    finally:
        await live.close()


async def test_halt_keeps_resting_orders(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "mlb").home_ticker
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        placed = await live.place(order_for(sim, ticker, Mode.LIVE, count=2, limit=D("0.02"), tif=TimeInForce.GTC))
        assert placed.record is not None
        await live.kill.halt("pause")
        assert live.guard.mode is BreakerMode.HALTED
        assert sim.exchange.orders_with_client_id(placed.intent.client_order_id)[0].status == "resting"
    finally:
        await live.close()
