"""The account feed against the simulator over sockets: fills and order updates from the ``fill`` and
``user_orders`` channels reach the order manager, once each whatever else brings them, and REST fills in what
the WebSocket lost (a reconnect, account events dropped from a full queue). Also the UNKNOWN order that blocks
its market until resolved by ``client_order_id``."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from account_kit import exchange_fills, record_of, resting_bid, running_feed, sell_into, stored_fills, until
from clientkit import eventually, game_in
from execution_stack import Stack, open_stack, order_for

from engine.execution.model import AuditKind, Mode, OrderRecord, OrderState
from engine.risk.state import BreakerMode

pytestmark = pytest.mark.integration


async def test_a_resting_order_filled_later_arrives_over_the_websocket(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "nba").home_ticker
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        order = await resting_bid(live, ticker, 7)
        async with running_feed(live) as feed:
            sell_into(sim, ticker, order.intent.limit_price, 7)
            await until(
                lambda: _state_is(live, order.client_order_id, OrderState.FILLED)
            )  # no REST read: grace is 60 s
            await eventually(lambda: feed.counters.contracts == 7)  # counted once the fill is stored
            assert feed.counters.reconciliations == 1
        record = await record_of(live, order.client_order_id)
        assert record.filled_count == 7 and record.filled_cost == order.intent.limit_price * 7
        assert await stored_fills(live, order.client_order_id) == exchange_fills(sim, order.client_order_id)
        assert live.guard.state.day.contracts == 7  # the breaker counted it
        assert sim.exchange.position(ticker).position == 7
    finally:
        await live.close()


async def _reconciled(stack: Stack, reason: str) -> bool:
    audits = await stack.store.audit(kinds=(AuditKind.RECONCILE,))
    return any(reason in str(e.data.get("reason", "")) for e in audits)


async def _state_is(stack: Stack, client_order_id: str, state: OrderState) -> bool:
    record = await stack.store.order(client_order_id)
    return record is not None and record.state is state


async def test_fills_brought_by_both_rest_and_the_websocket_count_once(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "nfl").away_ticker
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        asks = sim.exchange.orderbook(ticker).asks("yes")
        limit, count = asks[1].price, int(asks[0].count + asks[1].count)  # two levels: two fills
        async with running_feed(live) as feed:
            placed = await live.place(order_for(sim, ticker, Mode.LIVE, count=count, limit=limit))
            cid = placed.intent.client_order_id
            assert placed.record is not None and placed.record.state is OrderState.FILLED
            await eventually(lambda: feed.counters.order_updates >= 1)  # the channel's messages were applied
            await asyncio.sleep(0.2)  # and any late ones
        record = await record_of(live, cid)
        assert record.filled_count == count
        assert await stored_fills(live, cid) == exchange_fills(sim, cid)
        assert len(exchange_fills(sim, cid)) == 2
        assert live.guard.state.day.contracts == count
    finally:
        await live.close()


async def test_a_fill_while_the_socket_is_down_is_found_over_rest_on_reconnect(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "nhl").home_ticker
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        order = await resting_bid(live, ticker, 4)
        async with running_feed(live) as feed:
            sim.faults.drop_websockets()
            sell_into(sim, ticker, order.intent.limit_price, 4)  # no socket is open to carry it
            await until(lambda: _reconciled(live, "reconnected"))
            assert feed.counters.last_reconcile.startswith("reconnected"), feed.counters
        assert (await record_of(live, order.client_order_id)).state is OrderState.FILLED
        assert await stored_fills(live, order.client_order_id) == exchange_fills(sim, order.client_order_id)
        audits = [e.data for e in await live.store.audit(kinds=(AuditKind.RECONCILE,))]
        assert [a["contracts_added"] for a in audits if str(a.get("reason", "")).startswith("reconnected")] == [4]
    finally:
        await live.close()


async def test_account_events_dropped_from_a_full_queue_are_reconciled_over_rest(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "mlb").away_ticker
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        order = await resting_bid(live, ticker, 10)
        cid = order.client_order_id
        async with running_feed(live, max_events=1) as feed:
            # the feed's writer waits on the order while two sellers arrive: four account messages, room for one
            async with live.manager._order_lock(cid):
                sell_into(sim, ticker, order.intent.limit_price, 4)
                sell_into(sim, ticker, order.intent.limit_price, 6)
                await eventually(lambda: feed.ws.dropped_account_events >= 1)
            await until(lambda: _state_is(live, cid, OrderState.FILLED))
            await until(lambda: _reconciled(live, "dropped by the WebSocket client"))
        record = await record_of(live, cid)
        assert record.filled_count == 10
        assert await stored_fills(live, cid) == exchange_fills(sim, cid)
        assert live.guard.state.day.contracts == 10
    finally:
        await live.close()


async def _unknown_order(live: Stack, ticker: str, count: int, limit: D) -> OrderRecord:
    """An IOC order that the exchange takes while this process cannot learn it: the acknowledgement is held
    past the client's timeout and every lookup by client_order_id answers 503."""
    sim = live.sim
    intent = order_for(sim, ticker, Mode.LIVE, count=count, limit=limit, key="uncertain")
    sim.faults.hold_next_order_ack(3.0)
    task = asyncio.create_task(live.place(intent))
    await eventually(lambda: bool(sim.exchange.orders_with_client_id(intent.client_order_id)))
    sim.faults.fail_next_5xx(8)  # one lookup, all its retries
    placed = await task
    assert placed.record is not None and placed.record.state is OrderState.UNKNOWN, placed.record
    return placed.record


async def test_an_unknown_order_blocks_its_market_until_resolved_by_client_order_id(sim: Any, tmp_path: Path) -> None:
    game = game_in(sim, "nba")
    ticker, other = game.home_ticker, game.away_ticker
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE, timeout_s=0.5)
    try:
        ask = sim.exchange.orderbook(ticker).asks("yes")[0]
        unknown = await _unknown_order(live, ticker, 2, ask.price)
        assert live.manager.unknown_on(ticker) == {unknown.client_order_id}

        blocked = await live.place(order_for(sim, ticker, Mode.LIVE, count=1, limit=D("0.02"), key="next"))
        assert not blocked.allowed and blocked.rule == "unknown_orders"
        assert unknown.client_order_id in blocked.detail
        elsewhere = await live.place(order_for(sim, other, Mode.LIVE, count=1, limit=D("0.02"), key="other"))
        assert elsewhere.allowed  # only its own market waits

        resolved = await live.manager.resolve(unknown)
        assert resolved.state is OrderState.FILLED and resolved.filled_count == 2
        assert live.manager.unknown_on(ticker) == frozenset()
        again = await live.place(order_for(sim, ticker, Mode.LIVE, count=1, limit=D("0.02"), key="next", attempt=1))
        assert again.allowed, again.detail
        orders = sim.exchange.orders_with_client_id(unknown.client_order_id)
        assert len(orders) == 1  # placed once, never again
        assert sim.exchange.position(ticker).position == 2
    finally:
        await live.close()


async def test_the_account_feed_resolves_an_unknown_order_and_unblocks_its_market(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "nhl").away_ticker
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE, timeout_s=0.5)
    try:
        ask = sim.exchange.orderbook(ticker).asks("yes")[0]
        unknown = await _unknown_order(live, ticker, 1, ask.price)
        async with running_feed(live, unknown_every_s=0.05):
            await until(lambda: _state_is(live, unknown.client_order_id, OrderState.FILLED))
        assert live.manager.unknown_on(ticker) == frozenset()
        assert await stored_fills(live, unknown.client_order_id) == exchange_fills(sim, unknown.client_order_id)
    finally:
        await live.close()


async def test_a_fill_of_an_order_this_engine_never_placed_halts_the_breaker(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "nfl").home_ticker
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        async with running_feed(live, grace_s=0.2) as feed:
            ask = sim.exchange.orderbook(ticker).asks("yes")[0]
            sim.exchange.place_order(
                ticker=ticker, book_side="bid", price=ask.price, count=D(1), time_in_force="immediate_or_cancel",
                post_only=False, self_trade_prevention="taker_at_cross", client_order_id="placed-by-hand",
                order_group_id="", expiration_ts=None, now=sim.clock.now(),
            )  # fmt: skip
            await eventually(lambda: live.guard.mode is BreakerMode.HALTED)
            assert feed.counters.unmatched == 1
        assert live.guard.state.rule == "reconcile" and "belongs to no order of this engine" in live.guard.state.reason
        assert await live.store.fills() == []  # nothing recorded as ours
        audits = [e.data for e in await live.store.audit(kinds=(AuditKind.RECONCILE,)) if e.data.get("ok") is False]
        assert len(audits) == 1 and ticker in audits[0]["mismatches"][0]
    finally:
        await live.close()
