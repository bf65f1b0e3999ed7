"""Helpers for the account-feed and risk tests over the simulator: the feed running on its own WebSocket,
a seller arriving at the exchange, waits on what the store holds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal as D
from typing import Any

from clientkit import kalshi_ws
from execution_stack import Stack, order_for

from engine.execution.account_feed import AccountFeed
from engine.execution.model import Mode, OrderRecord, OrderState, TimeInForce

ONE = D(1)


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 5.0) -> None:
    """Wait (bounded) for a condition read from the store."""
    async with asyncio.timeout(timeout_s):
        while not await check():
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running_feed(stack: Stack, **options: Any) -> AsyncIterator[AccountFeed]:
    """The feed on its own WebSocket, subscribed and through its first reconciliation."""
    ws = kalshi_ws(stack.sim, max_events=options.pop("max_events", 10_000))
    options.setdefault("grace_s", 60.0)  # no REST read unless the test asks for one
    options.setdefault("unknown_every_s", 60.0)
    options.setdefault("check_every_s", 0.02)
    feed = AccountFeed(stack.manager, ws, stack.rest, stack.guard, stack.sim.clock.now, **options)
    task = asyncio.create_task(feed.run())
    try:
        async with asyncio.timeout(5):
            await feed.synced.wait()
        yield feed
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def record_of(stack: Stack, client_order_id: str) -> OrderRecord:
    record = await stack.store.order(client_order_id)
    assert record is not None
    return record


def exchange_fills(sim: Any, client_order_id: str) -> list[tuple[str, D, D, D]]:
    return sorted(
        (f.fill_id, f.count, f.yes_price, f.fee) for f in sim.exchange.fills if f.client_order_id == client_order_id
    )


async def stored_fills(stack: Stack, client_order_id: str) -> list[tuple[str, D, D, D]]:
    """Our fills as the exchange states them (count, YES price) for a YES order."""
    fills = await stack.store.fills(client_order_id=client_order_id)
    return sorted((f.fill_id, D(f.count), f.price, f.fee) for f in fills)


async def resting_bid(stack: Stack, ticker: str, count: int, key: str = "rest") -> OrderRecord:
    """A GTC YES bid joining the best bid: it rests until a seller crosses it."""
    sim = stack.sim
    bid = sim.exchange.best_yes_bid(ticker)
    placed = await stack.place(order_for(sim, ticker, Mode.LIVE, count=count, limit=bid, tif=TimeInForce.GTC, key=key))
    assert placed.record is not None and placed.record.state is OrderState.ACKED, placed.detail
    return placed.record


def sell_into(sim: Any, ticker: str, price: D, count: int) -> None:
    """A seller arrives at the exchange: a house NO bid at 1 - ``price`` crosses our YES bid at ``price``."""
    sim.exchange.quote_house(ticker, [], [(ONE - price, D(count))], sim.clock.now())
