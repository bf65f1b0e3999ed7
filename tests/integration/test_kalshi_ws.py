"""The Kalshi WebSocket client against the simulator: local books, seq gaps, reconnects, stalls, garbage."""

from __future__ import annotations

import asyncio
import logging
import uuid
from decimal import Decimal as D
from typing import Any

import pytest
from clientkit import eventually, game_in, kalshi_client, kalshi_ws, signer_for
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.config.settings import load_settings
from engine.connectors.kalshi.messages import (
    ChannelMessage,
    FillUpdate,
    MarketLifecycle,
    OrderGroupUpdate,
    PositionUpdate,
    TickerUpdate,
    TradeUpdate,
    UserOrderUpdate,
)
from engine.connectors.kalshi.models import BookSide, OrderRequest, TimeInForce
from engine.connectors.kalshi.signing import KalshiSigner
from engine.connectors.kalshi.ws import Backoff, KalshiWebSocket, ws_url_for

pytestmark = pytest.mark.integration


def books_match(ws: KalshiWebSocket, sim: Any, tickers: list[str]) -> bool:
    return all(ws.orderbook(t) is not None and ws.orderbook(t) == sim.exchange.orderbook(t) for t in tickers)


async def step_and_match(ws: KalshiWebSocket, sim: Any, tickers: list[str], steps: int = 3) -> None:
    for _ in range(steps):
        await sim.scenario.step()
    await ws.wait_until(lambda: books_match(ws, sim, tickers), timeout_s=5)


async def test_local_books_follow_the_exchange(sim: Any) -> None:
    tickers = list(sim.board.tickers)
    async with kalshi_ws(sim) as ws:
        await ws.subscribe(["orderbook_delta"], tickers)
        await ws.wait_books(tickers)
        assert books_match(ws, sim, tickers)
        await step_and_match(ws, sim, tickers, steps=5)
        assert ws.books.applied > 0 and ws.books.gaps == 0 and ws.malformed == 0


async def test_seq_gap_is_repaired_by_a_fresh_snapshot(sim: Any) -> None:
    tickers = list(sim.board.tickers)
    async with kalshi_ws(sim) as ws:
        await ws.subscribe(["orderbook_delta"], tickers)
        await ws.wait_books(tickers)
        sim.faults.seq_gap_next(tickers[0])
        for _ in range(3):
            await sim.scenario.step()
        await ws.wait_until(lambda: ws.books.gaps >= 1, timeout_s=5)
        await ws.wait_until(lambda: books_match(ws, sim, tickers), timeout_s=5)
        await step_and_match(ws, sim, tickers)


async def test_dropped_socket_reconnects_and_resubscribes(sim: Any) -> None:
    tickers = list(sim.board.tickers)[:6]
    async with kalshi_ws(sim) as ws:
        await ws.subscribe(["orderbook_delta"], tickers)
        await ws.wait_books(tickers)
        sim.faults.drop_websockets()
        await ws.wait_until(lambda: ws.connections >= 2, timeout_s=5)
        await ws.wait_books(tickers)
        await step_and_match(ws, sim, tickers)


async def test_stalled_feed_is_reported_stale(sim: Any) -> None:
    tickers = list(sim.board.tickers)[:4]
    async with kalshi_ws(sim) as ws:
        await ws.subscribe(["orderbook_delta", "ticker"], tickers)
        await ws.wait_books(tickers)
        sim.faults.stall_feeds(True)
        await sim.scenario.step()
        await eventually(lambda: all(ws.is_stale(t, max_age_s=0.3) for t in tickers), timeout_s=3)
        assert all(ws.staleness(t) > 0.3 for t in tickers)
        sim.faults.stall_feeds(False)
        await sim.scenario.step()
        await eventually(lambda: any(not ws.is_stale(t, max_age_s=0.3) for t in tickers), timeout_s=3)


async def test_malformed_messages_are_dropped_and_the_feed_goes_on(sim: Any) -> None:
    tickers = list(sim.board.tickers)
    async with kalshi_ws(sim) as ws:
        await ws.subscribe(["orderbook_delta"], tickers)
        await ws.wait_books(tickers)
        sim.faults.malformed_next_ws(3)
        for _ in range(4):
            await sim.scenario.step()
        await ws.wait_until(lambda: ws.malformed >= 1, timeout_s=5)
        # a garbage frame may have replaced a delta: the seq check notices and resyncs
        await ws.wait_until(lambda: books_match(ws, sim, tickers), timeout_s=5)
        assert ws.connections == 1


async def test_ticker_channel_and_market_updates(sim: Any) -> None:
    tickers = list(sim.board.tickers)
    async with kalshi_ws(sim) as ws:
        handle = await ws.subscribe(["orderbook_delta"], tickers[:2])
        await ws.subscribe(["ticker"])
        await ws.wait_books(tickers[:2])
        await ws.add_markets(handle, tickers[2:4])
        await ws.wait_books(tickers[:4])
        await ws.remove_markets(handle, tickers[3:4])
        assert ws.orderbook(tickers[3]) is None and ws.orderbook(tickers[2]) is not None
        await sim.scenario.step()
        update = await ws.events.get()
        while not isinstance(update, TickerUpdate):
            update = await ws.events.get()
        assert update.ticker in tickers


async def test_user_channels_report_our_fill_and_unsubscribe_stops_them(sim: Any) -> None:
    ticker = sim.board.tickers[0]
    ask = sim.exchange.orderbook(ticker).best_ask("yes")
    assert ask is not None
    order = OrderRequest(ticker, BookSide.BID, D(1), ask.price, str(uuid.uuid4()), TimeInForce.IMMEDIATE_OR_CANCEL)
    async with kalshi_ws(sim) as ws, kalshi_client(sim) as kalshi:
        await ws.subscribe(["orderbook_delta"], [ticker])
        handle = await ws.subscribe(["fill", "user_orders", "market_positions"])
        await ws.wait_books([ticker])
        ack = await kalshi.create_order(order)
        seen: dict[type, object] = {}
        while set(seen) != {FillUpdate, UserOrderUpdate, PositionUpdate}:
            msg = await asyncio.wait_for(ws.events.get(), timeout=5)
            assert not isinstance(msg, ChannelMessage), msg
            if isinstance(msg, FillUpdate | UserOrderUpdate | PositionUpdate):
                seen[type(msg)] = msg
        fill, user_order, position = seen[FillUpdate], seen[UserOrderUpdate], seen[PositionUpdate]
        assert isinstance(fill, FillUpdate) and fill.order_id == ack.order_id and fill.ticker == ticker
        assert (fill.outcome_side, fill.book_side, fill.count, fill.yes_price) == ("yes", "bid", D(1), ask.price)
        assert fill.is_taker and fill.fee_cost is not None and fill.post_position == D(1)
        assert isinstance(user_order, UserOrderUpdate) and user_order.client_order_id == order.client_order_id
        assert user_order.status == "executed" and user_order.fill_count == D(1) and user_order.book_side == "bid"
        assert isinstance(position, PositionUpdate) and position.ticker == ticker and position.position == D(1)
        await ws.unsubscribe(handle)
        await ws.wait_until(lambda: ws.acks >= 3, timeout_s=5)  # one "unsubscribed" per channel
        again = OrderRequest(ticker, BookSide.BID, D("0.01"), D("0.01"), str(uuid.uuid4()))
        await kalshi.create_order(again)
        # the resting order's book delta is queued with its user_order message: once the book shows it,
        # a user_order would have arrived too
        await ws.wait_until(lambda: books_match(ws, sim, [ticker]), timeout_s=5)
    assert all(not isinstance(m, UserOrderUpdate) for m in drain(ws))
    assert ws.errors == []


async def test_buffer_overflow_error_costs_a_reconnect_and_fresh_books(sim: Any) -> None:
    """Error 25 means the server dropped messages for us: the books resync from new snapshots."""
    tickers = list(sim.board.tickers)[:4]
    async with kalshi_ws(sim) as ws:
        await ws.subscribe(["orderbook_delta"], tickers)
        await ws.wait_books(tickers)
        sim.ws.overflow_all()
        await ws.wait_until(lambda: ws.connections >= 2, timeout_s=5)
        assert [e.code for e in ws.errors] == [25]
        await ws.wait_books(tickers)
        await step_and_match(ws, sim, tickers)


async def test_trade_and_lifecycle_messages_arrive_typed(sim: Any) -> None:
    game = game_in(sim, "nba")
    ticker = game.home_ticker
    ask = sim.exchange.orderbook(ticker).best_ask("yes")
    assert ask is not None
    order = OrderRequest(ticker, BookSide.BID, D(2), ask.price, str(uuid.uuid4()), TimeInForce.IMMEDIATE_OR_CANCEL)
    async with kalshi_ws(sim) as ws, kalshi_client(sim) as kalshi:
        # lifecycle takes no market filter: asked with one market, it still reports the other
        handle = await ws.subscribe(["trade", "market_lifecycle_v2"], [ticker])
        await ws.wait_until(lambda: ws.is_subscribed(handle), timeout_s=5)
        await kalshi.create_order(order)
        sim.scenario.finish_game(game.event_ticker, home_wins=True)
        trades: list[TradeUpdate] = []
        life: list[MarketLifecycle] = []
        while len(life) < 4:
            msg = await asyncio.wait_for(ws.events.get(), timeout=5)
            assert not isinstance(msg, ChannelMessage), msg
            if isinstance(msg, TradeUpdate):
                trades.append(msg)
            elif isinstance(msg, MarketLifecycle):
                life.append(msg)
    assert trades and all(t.ticker == ticker and t.taker_outcome_side == "yes" for t in trades)
    assert sum((t.count for t in trades), D(0)) == D(2)
    assert {m.ticker for m in life} == {game.home_ticker, game.away_ticker}
    home = [m for m in life if m.ticker == ticker]
    assert [m.event_type for m in home] == ["determined", "settled"]
    assert (home[0].result, home[0].settlement_value) == ("yes", D(1)) and home[1].settled_ts is not None


def drain(ws: KalshiWebSocket) -> list[object]:
    out: list[object] = []
    while not ws.events.empty():
        out.append(ws.events.get_nowait())
    return out


async def test_handshake_with_a_wrong_key_is_refused_and_retried(sim: Any) -> None:
    stranger = KalshiSigner(sim.key_id, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    async with KalshiWebSocket(sim.ws_url, stranger, backoff=Backoff(base_s=0.01, cap_s=0.05)) as ws:
        await eventually(lambda: ws.last_error is not None and "401" in ws.last_error, timeout_s=5)
        assert ws.connections == 0 and not ws.connected.is_set()


async def test_from_settings_finds_the_simulator_websocket(wall_sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = wall_sim  # a client built from settings signs with the machine's clock
    for name, value in (line.split("=", 1) for line in sim.env_lines().splitlines()):
        monkeypatch.setenv(name, value)
    settings = load_settings(None)
    assert ws_url_for(settings.kalshi_base_url) == sim.ws_url
    ticker = sim.board.tickers[0]
    async with KalshiWebSocket.from_settings(settings) as ws:
        await ws.subscribe(["orderbook_delta"], [ticker])
        await ws.wait_books([ticker])
        assert ws.orderbook(ticker) == sim.exchange.orderbook(ticker)
    assert ws.orderbook(ticker) is None  # closed: nothing is current any more


async def test_a_message_that_trips_a_bug_costs_one_resync_not_the_feed(sim: Any) -> None:
    tickers = list(sim.board.tickers)
    async with kalshi_ws(sim) as ws:
        await ws.subscribe(["orderbook_delta"], tickers)
        await ws.wait_books(tickers)
        real = ws.books.on_delta
        calls = {"n": 0}

        def flaky(delta: Any, now: float) -> Any:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("injected bug")
            return real(delta, now)

        ws.books.on_delta = flaky  # type: ignore[method-assign]
        await step_and_match(ws, sim, tickers, steps=3)
        assert calls["n"] > 1 and ws.malformed == 1 and ws.connections == 1


async def test_handshake_headers_never_reach_the_log(sim: Any, caplog: pytest.LogCaptureFixture) -> None:
    signer = signer_for(sim)
    with caplog.at_level(logging.DEBUG, logger="websockets"):
        async with kalshi_ws(sim) as ws:
            await eventually(ws.connected.is_set, timeout_s=5)
    lines = [r.getMessage() for r in caplog.records]
    assert any("KALSHI-ACCESS-SIGNATURE: <redacted>" in line for line in lines)  # the header line was logged
    assert not any(signer.key_id in line for line in lines if "KALSHI-ACCESS-KEY" in line)


async def test_a_full_event_queue_counts_the_account_messages_it_loses(sim: Any) -> None:
    ticker = sim.board.tickers[0]
    ask = sim.exchange.orderbook(ticker).best_ask("yes")
    assert ask is not None
    order = OrderRequest(ticker, BookSide.BID, D(1), ask.price, str(uuid.uuid4()), TimeInForce.IMMEDIATE_OR_CANCEL)
    async with kalshi_ws(sim, max_events=1) as ws, kalshi_client(sim) as kalshi:
        handle = await ws.subscribe(["fill", "user_orders", "market_positions"])
        await ws.wait_until(lambda: ws.is_subscribed(handle), timeout_s=5)
        await kalshi.create_order(order)
        await ws.wait_until(lambda: ws.dropped_events >= 2, timeout_s=5)
    assert ws.dropped_account_events == ws.dropped_events >= 2


async def test_one_unknown_market_does_not_cost_the_others_their_books(sim: Any) -> None:
    tickers = list(sim.board.tickers)[:3]
    async with kalshi_ws(sim) as ws:
        channels = ["orderbook_delta", "ticker", "market_lifecycle_v2"]
        handle = await ws.subscribe(channels, [*tickers[:2], "KXNOPE-26JAN01-X", tickers[2]])
        await ws.wait_books(tickers)
        await ws.wait_until(lambda: ws.is_subscribed(handle), timeout_s=5)
        assert ws.unknown_markets == {"KXNOPE-26JAN01-X"}
        # the two commands naming the market were refused and sent again; the lifecycle one was not repeated
        assert [(e.code, e.market_ticker) for e in ws.errors] == [(16, "KXNOPE-26JAN01-X")] * 2
        (conn,) = sim.ws.connections
        assert sorted(s.channel for s in conn.subs.values()) == sorted(channels)
        await step_and_match(ws, sim, tickers)


async def test_order_group_updates_report_an_automatic_trigger(sim: Any) -> None:
    ticker = next(g.home_ticker for g in sim.board.games if g.league != "mlb")
    ask = sim.exchange.orderbook(ticker).best_ask("yes")
    assert ask is not None and ask.count >= 2
    async with kalshi_ws(sim) as ws, kalshi_client(sim) as kalshi:
        handle = await ws.subscribe(["order_group_updates"], [ticker])  # takes no market filter
        await ws.wait_until(lambda: ws.is_subscribed(handle), timeout_s=5)
        group = await kalshi.create_order_group(1)
        rest = OrderRequest(
            ticker, BookSide.BID, D(1), D("0.01"), str(uuid.uuid4()), order_group_id=group.order_group_id
        )
        take = OrderRequest(ticker, BookSide.BID, D(1), ask.price, str(uuid.uuid4()), TimeInForce.IMMEDIATE_OR_CANCEL,
                            order_group_id=group.order_group_id)  # fmt: skip
        resting = await kalshi.create_order(rest)
        await kalshi.create_order(take)  # one contract matched: the limit is reached
        await kalshi.reset_order_group(group.order_group_id)
        await kalshi.delete_order_group(group.order_group_id)
        updates: list[OrderGroupUpdate] = []
        while len(updates) < 4:
            msg = await asyncio.wait_for(ws.events.get(), timeout=5)
            if isinstance(msg, OrderGroupUpdate):
                updates.append(msg)
        assert (await kalshi.get_order(resting.order_id)).status == "canceled"
    assert [u.event_type for u in updates] == ["created", "triggered", "reset", "deleted"]
    assert {u.order_group_id for u in updates} == {group.order_group_id} and updates[0].contracts_limit == D(1)
    seqs = [u.seq for u in updates]
    assert seqs == list(range(seqs[0] or 0, (seqs[0] or 0) + 4))


async def test_subscribe_commands_carry_only_the_parameters_each_channel_takes(sim: Any) -> None:
    tickers = list(sim.board.tickers)[:2]
    async with kalshi_ws(sim) as ws:
        handle = await ws.subscribe(["orderbook_delta", "ticker", "market_lifecycle_v2"], tickers)
        await ws.wait_until(lambda: ws.is_subscribed(handle), timeout_s=5)
        (conn,) = sim.ws.connections
        subs = {s.channel: s for s in conn.subs.values()}
    assert (subs["orderbook_delta"].yes_price, subs["orderbook_delta"].tickers) == (True, set(tickers))
    assert (subs["ticker"].yes_price, subs["ticker"].tickers) == (False, set(tickers))
    assert (subs["market_lifecycle_v2"].yes_price, subs["market_lifecycle_v2"].tickers) == (False, None)
