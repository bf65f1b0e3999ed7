"""Property, through the order manager: random sequences of signals (buys and sells, IOC and FOK, some sent
again with the same id), book changes, cancels, settlements, clock moves and restarts (the SQLite store
closed and reopened, a new breaker and manager) keep

- positions = the sum of the fills the store holds (the breaker's ledger agrees, market by market),
- cash = start - costs - fees + redemptions + settlement revenue, a sale of YES being a purchase of NO and
  every YES + NO pair redeemed for $1 (the breaker's ledger agrees),
- every order's totals = the sum of its fills, never more than its size, and no ``client_order_id`` twice,
- no order past a limit: per trade contracts and dollars at risk, the day's trades and contracts, each
  re-derived from the test's own history rather than read back from the breaker.

Real components: the paper executor fills against books the test sets, the store is SQLite in a temporary
directory, the breaker is :class:`~engine.execution.guard.BreakerGuard`.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.detection.signals import Side
from engine.execution.guard import BreakerGuard
from engine.execution.ids import client_order_id
from engine.execution.manager import OrderManager
from engine.execution.model import Action, Mode, OrderIntent, SettlementRecord, TimeInForce
from engine.execution.paper import PaperExecutor
from engine.execution.proposals import proposal_for, worst_case
from engine.markets.kalshi import Level, Orderbook
from engine.pricing.fees import DEFAULT_FEES
from engine.risk.limits import RiskLimits
from engine.store.base import Store
from engine.store.factory import open_store

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 in New York
MARKETS = {"KXP-A-1": "KXP-A", "KXP-A-2": "KXP-A", "KXP-B-1": "KXP-B"}
LIMITS = RiskLimits(
    max_trade_contracts=8,
    max_trade_risk=D(6),
    max_daily_loss=D(1000),
    max_daily_trades=12,
    max_daily_contracts=40,
    max_daily_fees=D(100),
    max_consecutive_losses=50,
    bankroll=D(1000),
    max_event_exposure=D(1),
    max_league_exposure=D(1),
    max_total_exposure=D(1),
    min_order_gap=timedelta(seconds=1),
    max_orders_per_minute=600,
)

prices = st.integers(min_value=5, max_value=95).map(lambda c: D(c) / 100)
levels = st.lists(st.tuples(prices, st.integers(min_value=1, max_value=6)), min_size=0, max_size=3)
market = st.sampled_from(sorted(MARKETS))
op = st.one_of(
    st.tuples(st.just("book"), market, levels, levels),
    st.tuples(st.just("buy"), market, st.integers(1, 10), st.integers(-3, 10), st.sampled_from(["ioc", "fok"])),
    st.tuples(st.just("sell"), market, st.integers(1, 10), st.integers(-3, 10)),
    st.tuples(st.just("again"), st.integers(0, 50)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("settle"), market, st.sampled_from([D(0), D(1), D("0.5")])),
    st.tuples(st.just("time"), st.sampled_from([2, 30, 600, 86_400])),
    st.tuples(st.just("restart")),
)


@dataclass
class World:
    """What the test itself knows: the books, the clock, and every order the manager allowed."""

    db: Path
    now: datetime = T0
    books: dict[str, Orderbook] = field(default_factory=dict)
    sent: list[OrderIntent] = field(default_factory=list)
    settled: dict[str, D] = field(default_factory=dict)
    """Settled market -> the revenue its settlement paid."""
    serial: int = 0

    def clock(self) -> datetime:
        return self.now


async def _open(world: World) -> tuple[Store, BreakerGuard, OrderManager]:
    store = await open_store(world.db)
    guard = await BreakerGuard.open(store, LIMITS, world.now, mode=Mode.PAPER)
    executor = PaperExecutor(world.books.get, lambda _t: DEFAULT_FEES, world.clock)
    manager = OrderManager(store, executor, guard, world.clock)
    await manager.load()
    await manager.resolve_pending()
    return store, guard, manager


def _intent(world: World, ticker: str, action: Action, count: int, limit: D, tif: TimeInForce) -> OrderIntent:
    world.serial += 1
    key = f"prop|{ticker}|{action.value}|{world.serial}"
    return OrderIntent(
        client_order_id=client_order_id(key, 0), ticker=ticker, event_ticker=MARKETS[ticker], league="nba",
        side=Side.YES, action=action, count=count, limit_price=limit, time_in_force=tif, mode=Mode.PAPER,
        created_at=world.now, signal_key=key,
    )  # fmt: skip


async def _position(store: Store, ticker: str) -> int:
    held = 0
    for f in await store.fills(ticker=ticker):
        held += f.count if f.action is Action.BUY else -f.count
    return held


async def _place(world: World, store: Store, manager: OrderManager, intent: OrderIntent) -> None:
    day = world.now.astimezone(LIMITS.zone).date()
    position = await _position(store, intent.ticker)
    today_fills = [f for f in await store.fills() if f.ts.astimezone(LIMITS.zone).date() == day]
    today_orders = [i for i in world.sent if i.created_at.astimezone(LIMITS.zone).date() == day]
    proposal = proposal_for(intent, DEFAULT_FEES, book_at=world.now, shard_cash=D(10_000), position=position)
    placed = await manager.place(intent, proposal)
    if not placed.allowed:
        return
    world.sent.append(intent)
    cost, fee = worst_case(intent, DEFAULT_FEES)
    assert intent.count <= LIMITS.max_trade_contracts
    if not proposal.reduces:  # the rules that guard new risk
        assert cost + fee <= LIMITS.max_trade_risk
        assert len(today_orders) + 1 <= LIMITS.max_daily_trades
        assert sum(f.count for f in today_fills) + intent.count <= LIMITS.max_daily_contracts


async def _check(world: World, store: Store, guard: BreakerGuard) -> None:
    fills = await store.fills()
    orders = await store.orders()
    ids = [r.client_order_id for r in orders]
    assert len(ids) == len(set(ids))
    for r in orders:
        mine = [f for f in fills if f.client_order_id == r.client_order_id]
        assert r.filled_count == sum(f.count for f in mine) <= r.intent.count
        assert r.filled_cost == sum((f.price * f.count for f in mine), D(0))
        assert r.fees == sum((f.fee for f in mine), D(0))
    expected_cash = D(0)
    held: dict[str, int] = {}
    for f in fills:  # a sale of YES is a purchase of NO at 1 - p; each YES + NO pair is redeemed for $1
        before = held.get(f.ticker, 0)
        if f.action is Action.BUY:
            expected_cash += -f.price * f.count + min(f.count, max(0, -before))
            held[f.ticker] = before + f.count
        else:
            expected_cash += -(1 - f.price) * f.count + min(f.count, max(0, before))
            held[f.ticker] = before - f.count
        expected_cash -= f.fee
    expected_cash += sum(world.settled.values(), D(0))
    assert guard.ledger.cash == expected_cash
    for ticker in MARKETS:
        position = guard.ledger.position(ticker)
        held = 0 if position is None else position.yes_position
        assert held == (0 if ticker in world.settled else await _position(store, ticker))


async def run(ops: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory(prefix="arbprop") as tmp:
        world = World(Path(tmp) / "store.db")
        for ticker in MARKETS:  # every market opens with a book on both sides
            world.books[ticker] = Orderbook(ticker, _ladder([(D("0.40"), 5), (D("0.38"), 8)]),
                                            _ladder([(D("0.55"), 5), (D("0.50"), 8)]))  # fmt: skip
        store, guard, manager = await _open(world)
        try:
            for step in ops:
                match step:
                    case ("book", str(ticker), list(yes), list(no)) if ticker not in world.settled:
                        world.books[ticker] = Orderbook(ticker, _ladder(yes), _ladder(no))
                    case ("buy", str(ticker), int(count), int(reach), str(tif)):
                        limit = _limit(world, ticker, Action.BUY, reach)
                        tif_ = TimeInForce.IOC if tif == "ioc" else TimeInForce.FOK
                        await _place(world, store, manager, _intent(world, ticker, Action.BUY, count, limit, tif_))
                    case ("sell", str(ticker), int(count), int(reach)):
                        limit = _limit(world, ticker, Action.SELL, reach)
                        intent = _intent(world, ticker, Action.SELL, count, limit, TimeInForce.IOC)
                        await _place(world, store, manager, intent)
                    case ("again", int(index)) if world.sent:
                        original = replace(world.sent[index % len(world.sent)], created_at=world.now)
                        before = (await store.fills(), len(await store.orders()))
                        position = await _position(store, original.ticker)
                        proposal = proposal_for(original, DEFAULT_FEES, book_at=world.now, shard_cash=D(10_000),
                                                position=position)  # fmt: skip
                        again = await manager.place(original, proposal)
                        assert not again.allowed  # the same signal and attempt never makes a second order
                        assert (await store.fills(), len(await store.orders())) == before
                    case ("cancel", int(index)) if world.sent:
                        record = await store.order(world.sent[index % len(world.sent)].client_order_id)
                        assert record is not None
                        await manager.cancel(record)
                    case ("settle", str(ticker), D() as value) if ticker not in world.settled:
                        held = await _position(store, ticker)
                        settlement = SettlementRecord(ticker, MARKETS[ticker], value, world.now)
                        assert await manager.record_settlement(settlement)
                        assert not await manager.record_settlement(settlement)  # once
                        world.settled[ticker] = value * held if held > 0 else (1 - value) * -held
                        world.books.pop(ticker, None)
                    case ("time", int(seconds)):
                        world.now += timedelta(seconds=seconds)
                    case ("restart",):
                        await store.close()
                        store, guard, manager = await _open(world)
                world.now += timedelta(seconds=2)  # past the market gap
                await _check(world, store, guard)
        finally:
            await store.close()


def _limit(world: World, ticker: str, action: Action, reach: int) -> D:
    """A limit ``reach`` cents through the best price (negative: short of it), so orders fill often."""
    book = world.books.get(ticker)
    best = None
    if book is not None:
        level = book.best_ask("yes") if action is Action.BUY else (book.yes_bids[0] if book.yes_bids else None)
        best = None if level is None else level.price
    base = D("0.50") if best is None else best
    step = D(reach) / 100
    return min(D("0.99"), max(D("0.01"), base + step if action is Action.BUY else base - step))


def _ladder(levels: list[tuple[D, int]]) -> tuple[Level, ...]:
    best: dict[D, int] = {}
    for price, count in levels:
        best[price] = best.get(price, 0) + count
    return tuple(Level(p, D(c)) for p, c in sorted(best.items(), reverse=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=30))
def test_positions_cash_and_limits_hold_through_the_order_manager(ops: list[tuple[object, ...]]) -> None:
    asyncio.run(run(ops))
