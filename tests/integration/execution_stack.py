"""The execution stack wired the way the runtime wires it, pointed at the simulator: a SQLite store in a
temporary directory, the breaker guard, the order manager with a paper or live executor, the kill switch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from clientkit import kalshi_client

from engine.connectors.kalshi.rest import KalshiRestClient
from engine.detection.signals import Side
from engine.execution.executor import Executor
from engine.execution.groups import OrderGroups
from engine.execution.guard import BreakerGuard
from engine.execution.ids import client_order_id
from engine.execution.kill import KillSwitch
from engine.execution.live import LiveExecutor
from engine.execution.manager import OrderManager, Placement
from engine.execution.model import Action, Mode, OrderIntent, TimeInForce
from engine.execution.paper import PaperExecutor
from engine.execution.proposals import proposal_for
from engine.markets.kalshi import Orderbook
from engine.pricing.fees import FeeSchedule
from engine.risk.limits import RiskLimits
from engine.store.base import Store
from engine.store.factory import open_store

LIMITS = RiskLimits(
    min_order_gap=timedelta(0),
    max_trade_contracts=5000,
    max_trade_risk=D(5000),
    max_daily_loss=D(5000),
    max_daily_fees=D(1000),
    max_daily_contracts=100_000,
    max_event_exposure=D(1),
    max_league_exposure=D(1),
    max_total_exposure=D(1),
)
"""Wide enough that the simulator's deep levels can be walked; the breaker's own tests pin each limit."""


@dataclass
class Stack:
    sim: Any
    store: Store
    guard: BreakerGuard
    manager: OrderManager
    rest: KalshiRestClient
    groups: OrderGroups | None
    kill: KillSwitch
    books: dict[str, Orderbook]
    fee_table: dict[str, FeeSchedule]

    def now(self) -> datetime:
        now: datetime = self.sim.clock.now()
        return now

    async def fees(self, ticker: str) -> FeeSchedule:
        if ticker not in self.fee_table:
            game = next(g for g in self.sim.board.games if ticker in g.tickers)
            self.fee_table[ticker] = (await self.rest.series(game.series_ticker)).fees
        return self.fee_table[ticker]

    async def load_book(self, ticker: str) -> Orderbook:
        """The book paper fills against, read over REST as the engine would have it."""
        await self.fees(ticker)
        book = self.books[ticker] = await self.rest.orderbook(ticker)
        return book

    async def place(self, intent: OrderIntent) -> Placement:
        """Through the breaker with a proposal built from what the exchange reports now. The simulator keeps
        one balance for every shard (its breakdown lists shard 0 only) and collateralises shard-3 orders from
        it, so the breaker is told that pooled balance as the shard's cash."""
        balance = await self.rest.balance()
        fees = await self.fees(intent.ticker)
        proposal = proposal_for(intent, fees, book_at=self.now(), shard_cash=balance.balance)
        return await self.manager.place(intent, proposal)

    async def close(self) -> None:
        await self.store.close()
        await self.rest.aclose()


async def open_stack(sim: Any, db: Path, mode: Mode, limits: RiskLimits = LIMITS, **client: Any) -> Stack:
    """``mode`` PAPER fills against ``stack.books`` (load them with ``await rest.orderbook``); LIVE sends."""
    store = await open_store(db)
    rest = kalshi_client(sim, **client)
    guard = await BreakerGuard.open(store, limits, sim.clock.now(), mode=mode)
    books: dict[str, Orderbook] = {}
    fee_table: dict[str, FeeSchedule] = {}
    groups: OrderGroups | None = None
    executor: Executor
    if mode is Mode.LIVE:
        groups = OrderGroups(rest, contracts_limit=1000)
        executor = LiveExecutor(rest, groups, sim.clock.now)
    else:
        executor = PaperExecutor(books.get, fee_table.__getitem__, sim.clock.now)
    manager = OrderManager(store, executor, guard, sim.clock.now)
    await manager.load()
    shards = frozenset({0, 3})
    kill = KillSwitch(manager, guard, sim.clock.now, rest if mode is Mode.LIVE else None, groups, shards)
    return Stack(sim, store, guard, manager, rest, groups, kill, books, fee_table)


def order_for(
    sim: Any,
    ticker: str,
    mode: Mode,
    *,
    count: int,
    limit: Decimal,
    side: Side = Side.YES,
    tif: TimeInForce = TimeInForce.IOC,
    key: str = "signal",
    attempt: int = 0,
) -> OrderIntent:
    game = next(g for g in sim.board.games if ticker in g.tickers)
    signal_key = f"{key}|{ticker}|{side.value}|{limit}|{count}"
    return OrderIntent(
        client_order_id=client_order_id(signal_key, attempt),
        ticker=ticker,
        event_ticker=game.event_ticker,
        league=game.league,
        side=side,
        action=Action.BUY,
        count=count,
        limit_price=limit,
        time_in_force=tif,
        mode=mode,
        created_at=sim.clock.now(),
        signal_key=signal_key,
        attempt=attempt,
        exchange_index=sim.exchange.shard_of(ticker),
    )
