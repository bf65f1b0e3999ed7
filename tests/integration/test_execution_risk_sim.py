"""The breaker learns what trades realised, against the simulator over sockets: a sell that closes a position
at a loss and a losing settlement count towards the daily loss and the losing streak (through the pure
ledger), and a Kalshi-only arbitrage that fills one leg only puts its event in REDUCING until its legs are
hedged or flat."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from account_kit import record_of, running_feed, sell_into, until
from clientkit import game_in
from execution_stack import LIMITS, Stack, open_stack, order_for

from engine.execution.account_feed import AccountFeed
from engine.execution.model import Action, AuditKind, Mode, OrderIntent, OrderState, TimeInForce
from engine.execution.proposals import proposal_for
from engine.money import money_str
from engine.risk.proposal import OrderProposal
from engine.risk.state import BreakerMode

pytestmark = pytest.mark.integration


async def proposal(stack: Stack, intent: OrderIntent, position: int = 0) -> OrderProposal:
    balance = await stack.rest.balance()
    fees = await stack.fees(intent.ticker)
    return proposal_for(intent, fees, book_at=stack.now(), shard_cash=balance.balance, position=position)


def sell(sim: Any, ticker: str, count: int, limit: D, key: str = "exit") -> OrderIntent:
    return replace(order_for(sim, ticker, Mode.LIVE, count=count, limit=limit, key=key), action=Action.SELL)


async def test_a_sell_closing_at_a_loss_counts_towards_the_daily_loss(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "nba").away_ticker
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        book = sim.exchange.orderbook(ticker)
        ask, bid = book.asks("yes")[0], book.yes_bids[0]
        count = int(min(ask.count, bid.count, D(5)))
        bought = await live.place(order_for(sim, ticker, Mode.LIVE, count=count, limit=ask.price, key="entry"))
        assert bought.record is not None and bought.record.filled_count == count
        assert live.guard.state.day.realised_pnl == -bought.record.fees  # opening realises nothing but fees

        exit_order = sell(sim, ticker, count, bid.price)
        decision = await proposal(live, exit_order, position=count)
        assert decision.reduces
        live.guard.limits = replace(LIMITS, max_daily_loss=D("0.01"))  # the operator tightened the day's limit
        sold = await live.manager.place(exit_order, decision)
        assert sold.allowed and sold.record is not None and sold.record.filled_count == count, sold.detail
        assert sim.exchange.position(ticker).position == 0

        fills = await live.store.fills(ticker=ticker)
        cost = sum((f.price * f.count for f in fills if f.action is Action.BUY), D(0))
        proceeds = sum((f.price * f.count for f in fills if f.action is Action.SELL), D(0))
        fees = sum((f.fee for f in fills), D(0))
        assert proceeds < cost
        state = live.guard.state
        assert state.day.realised_pnl == proceeds - cost - fees
        loss = cost - proceeds + fees
        assert (state.mode, state.rule) == (BreakerMode.HALTED, "daily_loss")
        assert money_str(loss) in state.reason, state.reason
    finally:
        await live.close()


async def test_a_losing_settlement_counts_once_towards_the_day_and_the_streak(sim: Any, tmp_path: Path) -> None:
    ticker = game_in(sim, "nfl").home_ticker
    limits = replace(LIMITS, max_consecutive_losses=1)
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE, limits=limits)
    try:
        ask = sim.exchange.orderbook(ticker).asks("yes")[0]
        count = int(min(ask.count, D(4)))
        async with running_feed(live) as feed:
            bought = await live.place(order_for(sim, ticker, Mode.LIVE, count=count, limit=ask.price))
            assert bought.record is not None and bought.record.filled_count == count
            sim.exchange.settle(ticker, "no", sim.clock.now())  # the YES we hold pays nothing
            await until(lambda: _settled(live, ticker))
            await until(lambda: _counted(feed))  # the feed counts a settlement once the manager has recorded it
            assert feed.counters.settlements == 1
            await feed.reconcile("a second look")  # lists the same settlement again
            assert feed.counters.settlements == 1
        record = bought.record
        state = live.guard.state
        assert state.day.realised_pnl == -(record.filled_cost + record.fees)
        assert state.consecutive_losses == 1
        assert (state.mode, state.rule) == (BreakerMode.HALTED, "consecutive_losses")
        settled = [s for s in await live.store.settlements() if s.ticker == ticker]
        assert len(settled) == 1 and settled[0].value == 0
    finally:
        await live.close()


async def _settled(stack: Stack, ticker: str) -> bool:
    return any(s.ticker == ticker for s in await stack.store.settlements())


async def _counted(feed: AccountFeed) -> bool:
    return feed.counters.settlements > 0


async def _legs(live: Stack, game: Any, *, resting_second: bool) -> tuple[OrderIntent, OrderIntent]:
    """Buy both outcomes of one game: the home leg at its ask (fills), the away leg below its ask (rests as
    GTC, or misses as IOC)."""
    sim = live.sim
    home, away = game.home_ticker, game.away_ticker
    ask = sim.exchange.orderbook(home).asks("yes")[0]
    count = int(min(ask.count, D(3)))
    first = order_for(sim, home, Mode.LIVE, count=count, limit=ask.price, key="arb")
    tif = TimeInForce.GTC if resting_second else TimeInForce.IOC
    second = order_for(sim, away, Mode.LIVE, count=count, limit=sim.exchange.best_yes_bid(away), key="arb", tif=tif)
    return first, second


async def test_a_legged_arbitrage_reduces_its_event_until_the_missing_leg_fills(sim: Any, tmp_path: Path) -> None:
    game = game_in(sim, "nba")
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        first, second = await _legs(live, game, resting_second=True)
        async with running_feed(live):
            result = await live.manager.place_legs(
                [first, second], [await proposal(live, first), await proposal(live, second)]
            )
            assert result.legged, result
            event = game.event_ticker
            assert event in live.guard.legged and "legged" in live.guard.legged[event]
            assert live.guard.mode is BreakerMode.ACTIVE  # other events trade on
            audit = [e.data for e in await live.store.audit(kinds=(AuditKind.BREAKER,)) if e.data.get("legged")]
            assert audit and audit[-1]["legs"] == [first.ticker, second.ticker]

            more = order_for(sim, first.ticker, Mode.LIVE, count=1, limit=first.limit_price, key="more")
            refused = await live.manager.place(more, await proposal(live, more))
            assert not refused.allowed and refused.rule == "reducing" and event in refused.detail

            sell_into(sim, second.ticker, second.limit_price, second.count)  # the resting leg fills
            await until(lambda: _filled(live, second.client_order_id))
            await until(lambda: _cleared(live, event))
            again = await live.manager.place(more, await proposal(live, more))
            assert again.allowed, again.detail
    finally:
        await live.close()


async def test_a_legged_arbitrage_is_cleared_once_flat_again(sim: Any, tmp_path: Path) -> None:
    game = game_in(sim, "nhl")
    live = await open_stack(sim, tmp_path / "live.db", Mode.LIVE)
    try:
        first, second = await _legs(live, game, resting_second=False)
        result = await live.manager.place_legs(
            [first, second], [await proposal(live, first), await proposal(live, second)]
        )
        assert result.legged and [p.filled for p in result.placements] == [first.count, 0]
        event = game.event_ticker
        assert event in live.guard.legged

        bid = sim.exchange.best_yes_bid(first.ticker)
        out = sell(sim, first.ticker, first.count, bid)
        flat = await live.manager.place(out, await proposal(live, out, position=first.count))
        assert flat.allowed and flat.record is not None and flat.record.filled_count == first.count, flat.detail
        assert event not in live.guard.legged
        assert sim.exchange.position(first.ticker).position == 0
    finally:
        await live.close()


async def _filled(stack: Stack, client_order_id: str) -> bool:
    return (await record_of(stack, client_order_id)).state is OrderState.FILLED


async def _cleared(stack: Stack, event: str) -> bool:
    return event not in stack.guard.legged
