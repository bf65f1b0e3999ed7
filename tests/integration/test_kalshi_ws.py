"""The Kalshi WebSocket client against the simulator: local books, seq gaps, reconnects, stalls, garbage."""

from __future__ import annotations

from typing import Any

import pytest
from clientkit import eventually, kalshi_ws

from engine.connectors.kalshi.messages import TickerUpdate
from engine.connectors.kalshi.ws import KalshiWebSocket

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
        await sim.scenario.step()
        update = await ws.events.get()
        while not isinstance(update, TickerUpdate):
            update = await ws.events.get()
        assert update.ticker in tickers
