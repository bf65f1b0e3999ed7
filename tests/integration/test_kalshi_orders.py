"""Orders against the simulator: V2 create/get/list/cancel, batch cancel, order groups, and the exactly-once
guarantee when the outcome of a create is unknown."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from clientkit import eventually, kalshi_client

from engine.clock import PinnedClock
from engine.connectors.errors import ConflictError, NotFoundError, OrderOutcomeUnknownError, RateLimitedError
from engine.connectors.http import RetryPolicy
from engine.connectors.kalshi.models import BookSide, OrderRequest, TimeInForce
from engine.sim import SimConfig, run_simulator

pytestmark = pytest.mark.integration


def resting_bid(ticker: str, price: str = "0.0100", count: str = "3") -> OrderRequest:
    """A YES bid far below the market: it rests and never fills."""
    return OrderRequest(ticker, BookSide.BID, D(count), D(price), client_order_id=str(uuid.uuid4()))


async def test_create_get_list_cancel(sim: Any) -> None:
    ticker = sim.board.tickers[0]
    order = resting_bid(ticker)
    async with kalshi_client(sim) as kalshi:
        ack = await kalshi.create_order(order)
        assert not ack.recovered and ack.client_order_id == order.client_order_id
        assert (ack.fill_count, ack.remaining_count) == (D(0), D(3))
        got = await kalshi.get_order(ack.order_id)
        assert (got.status, got.yes_price, got.client_order_id) == ("resting", D("0.01"), order.client_order_id)
        listed = await kalshi.orders(ticker=ticker, status="resting")
        assert [o.order_id for o in listed] == [ack.order_id]
        cancel = await kalshi.cancel_order(ack.order_id, ticker)
        assert cancel.reduced_by == D(3)
        assert (await kalshi.get_order(ack.order_id)).status == "canceled"


async def test_crossing_ioc_fills_and_shows_in_fills_and_positions(sim: Any) -> None:
    ticker = sim.board.tickers[1]
    ask = sim.exchange.orderbook(ticker).best_ask("yes")
    assert ask is not None
    order = OrderRequest(
        ticker, BookSide.BID, D(1), ask.price, client_order_id=str(uuid.uuid4()),
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
    )  # fmt: skip
    async with kalshi_client(sim) as kalshi:
        ack = await kalshi.create_order(order)
        fills = await kalshi.fills(ticker=ticker)
        positions = await kalshi.positions(ticker=ticker)
    assert ack.fill_count == D(1) and ack.average_fill_price == ask.price
    assert [f.order_id for f in fills] == [ack.order_id]
    assert [p.position for p in positions] == [D(1)]


async def test_order_sent_during_a_connection_reset_is_placed_exactly_once(sim: Any) -> None:
    order = resting_bid(sim.board.tickers[2])
    sim.faults.reset_after_next_order()
    async with kalshi_client(sim) as kalshi:
        ack = await kalshi.create_order(order)
    assert ack.recovered
    placed = sim.exchange.orders_with_client_id(order.client_order_id)
    assert len(placed) == 1 and placed[0].order_id == ack.order_id


@pytest.mark.parametrize("fault", ["fail_next_5xx", "fail_next_429"])
async def test_refused_or_failed_create_is_placed_exactly_once(sim: Any, fault: str) -> None:
    order = resting_bid(sim.board.tickers[3])
    getattr(sim.faults, fault)(2)
    async with kalshi_client(sim) as kalshi:
        ack = await kalshi.create_order(order)
    placed = sim.exchange.orders_with_client_id(order.client_order_id)
    assert [o.order_id for o in placed] == [ack.order_id]


async def test_a_cancel_answer_about_another_order_is_not_trusted(sim: Any) -> None:
    ticker = sim.board.tickers[1]
    async with kalshi_client(sim) as kalshi:
        other = await kalshi.create_order(resting_bid(ticker, count="7"))
        mine = await kalshi.create_order(resting_bid(ticker))
        sim.faults.misdescribe_next_cancel()
        cancel = await kalshi.cancel_order(mine.order_id, ticker)
        assert (cancel.order_id, cancel.reduced_by) == (mine.order_id, None)
        assert (await kalshi.get_order(mine.order_id)).status == "canceled"
        assert (await kalshi.get_order(other.order_id)).status == "resting"


async def test_cancels_reach_an_order_on_another_exchange_shard(sim: Any) -> None:
    """Baseball markets live on shard 3 (exchange_sharding.md): a cancel must name the market to get there."""
    mlb = next(g for g in sim.board.games if g.league == "mlb")
    ticker = mlb.home_ticker
    async with kalshi_client(sim) as kalshi:
        one = await kalshi.create_order(resting_bid(ticker))
        two = await kalshi.create_order(resting_bid(ticker))
        cancel = await kalshi.cancel_order(one.order_id, ticker)
        (batch,) = await kalshi.batch_cancel({two.order_id: ticker})
    assert (cancel.order_id, cancel.reduced_by) == (one.order_id, D(3))
    assert (batch.order_id, batch.reduced_by, batch.error) == (two.order_id, D(3), "")
    assert {sim.exchange.orders[o.order_id].status for o in (one, two)} == {"canceled"}


async def test_batch_cancel_and_order_groups(sim: Any) -> None:
    ticker = next(g.home_ticker for g in sim.board.games if g.league != "mlb")  # a shard-0 market
    async with kalshi_client(sim) as kalshi:
        group = await kalshi.create_order_group(50)
        first = resting_bid(ticker)
        cid = str(uuid.uuid4())
        grouped = OrderRequest(ticker, BookSide.BID, D(2), D("0.02"), cid, order_group_id=group.order_group_id)
        a = await kalshi.create_order(first)
        b = await kalshi.create_order(grouped)
        info = await kalshi.get_order_group(group.order_group_id)
        assert b.order_id in info.order_ids
        await kalshi.trigger_order_group(group.order_group_id)
        assert (await kalshi.get_order(b.order_id)).status == "canceled"
        await kalshi.reset_order_group(group.order_group_id)
        results = await kalshi.batch_cancel({a.order_id: ticker})
        assert [(r.order_id, r.reduced_by) for r in results] == [(a.order_id, D(3))]
        assert (await kalshi.get_order(a.order_id)).status == "canceled"


async def test_batch_cancel_larger_than_the_write_bucket_is_split(sim: Any) -> None:
    """60 orders cost 120 write tokens, more than a Basic bucket holds: the kill switch must still cancel
    every one (in calls of 50) instead of refusing or being refused as a whole."""
    ticker = sim.board.tickers[3]
    ids = []
    for i in range(60):
        order = sim.exchange.place_order(
            ticker=ticker,
            book_side="bid",
            price=D("0.01"),
            count=D(1),
            time_in_force="good_till_canceled",
            post_only=False,
            self_trade_prevention="taker_at_cross",
            client_order_id=f"bulk-{i}",
            order_group_id="",
            expiration_ts=None,
            now=sim.clock.now(),
        )
        ids.append(order.order_id)
    async with kalshi_client(sim) as kalshi:
        results = await kalshi.batch_cancel(dict.fromkeys(ids, ticker))
    assert sorted(r.order_id for r in results) == sorted(ids)
    assert all(r.reduced_by == D(1) and not r.error for r in results)
    assert all(sim.exchange.orders[i].status == "canceled" for i in ids)


async def test_order_groups_live_on_the_shard_of_their_markets(sim: Any) -> None:
    mlb = next(g for g in sim.board.games if g.league == "mlb")
    ticker = mlb.home_ticker
    async with kalshi_client(sim) as kalshi:
        market = await kalshi.market(ticker)
        assert market.exchange_index == 3
        wrong = await kalshi.create_order_group(10)
        right = await kalshi.create_order_group(10, exchange_index=market.exchange_index)
        assert (wrong.exchange_index, right.exchange_index) == (0, 3)
        with pytest.raises(NotFoundError):
            await kalshi.create_order(_grouped(ticker, wrong.order_group_id))
        ack = await kalshi.create_order(_grouped(ticker, right.order_group_id))
        with pytest.raises(NotFoundError):
            await kalshi.trigger_order_group(right.order_group_id)  # shard 0 has no such group
        info = await kalshi.get_order_group(right.order_group_id, exchange_index=3)
        assert info.order_ids == (ack.order_id,) and info.exchange_index == 3
        await kalshi.trigger_order_group(right.order_group_id, exchange_index=3)
        assert (await kalshi.get_order(ack.order_id)).status == "canceled"
        await kalshi.delete_order_group(right.order_group_id, exchange_index=3)
    assert right.order_group_id not in sim.exchange.order_groups


@pytest.mark.parametrize("at", [datetime(2026, 12, 1, 15, 0, tzinfo=UTC), datetime(2026, 12, 1, 23, 10, tzinfo=UTC)])
async def test_engine_client_cancels_and_triggers_groups_on_a_shard_three_market(at: datetime) -> None:
    """At 23:10 UTC the board's earliest game is baseball: the client must route by the market, not by luck."""
    async with run_simulator(SimConfig(seed=1), clock=PinnedClock(at)) as sim:
        ticker = next(g.home_ticker for g in sim.board.games if sim.exchange.shard_of(g.home_ticker) == 3)
        async with kalshi_client(sim) as kalshi:
            group = await kalshi.create_order_group(10, exchange_index=3)
            kept = await kalshi.create_order(_grouped(ticker, group.order_group_id))
            cancelled = await kalshi.create_order(_grouped(ticker, group.order_group_id))
            result = await kalshi.cancel_order(cancelled.order_id, ticker)
            await kalshi.trigger_order_group(group.order_group_id, exchange_index=3)
            with pytest.raises(ConflictError):  # a triggered group refuses new orders until reset
                await kalshi.create_order(_grouped(ticker, group.order_group_id))
            statuses = {oid: (await kalshi.get_order(oid)).status for oid in (kept.order_id, cancelled.order_id)}
    assert result.reduced_by == D(1)
    assert statuses == {kept.order_id: "canceled", cancelled.order_id: "canceled"}
    assert sim.exchange.order_groups[group.order_group_id].triggered


def _grouped(ticker: str, group_id: str) -> OrderRequest:
    return OrderRequest(ticker, BookSide.BID, D(1), D("0.01"), str(uuid.uuid4()), order_group_id=group_id)


async def test_timed_out_create_is_looked_up_before_it_is_sent_again(sim: Any) -> None:
    """The create times out; the client looks the order up first (retrying the lookup while the exchange is
    slow) and only re-sends, under the same client_order_id, once the exchange shows no such order."""
    order = resting_bid(sim.board.tickers[5])
    sim.faults.latency_s = 0.5
    async with kalshi_client(sim, timeout_s=0.2) as kalshi:
        create = asyncio.create_task(kalshi.create_order(order))
        await eventually(lambda: kalshi.requests_sent >= 3, timeout_s=3)  # the create, then lookups
        sim.faults.latency_s = 0.0
        ack = await asyncio.wait_for(create, timeout=5)
    assert [o.order_id for o in sim.exchange.orders_with_client_id(order.client_order_id)] == [ack.order_id]


async def test_unresolvable_outcome_raises_instead_of_resending(sim: Any) -> None:
    order = resting_bid(sim.board.tickers[6])
    sim.faults.latency_s = 0.3
    retry = RetryPolicy(max_attempts=2, base_s=0.01, cap_s=0.02)
    async with kalshi_client(sim, timeout_s=0.1, retry=retry) as kalshi:
        with pytest.raises(OrderOutcomeUnknownError) as info:
            await kalshi.create_order(order)
        assert info.value.client_order_id == order.client_order_id
        assert kalshi.requests_sent == 3  # one create, two lookup attempts, no second create
        sim.faults.latency_s = 0.0
        found = await kalshi.find_order_by_client_id(order.ticker, order.client_order_id)
    assert found is None and sim.exchange.orders_with_client_id(order.client_order_id) == []


async def test_settlements_after_a_fill(sim: Any) -> None:
    ticker = sim.board.tickers[7]
    ask = sim.exchange.orderbook(ticker).best_ask("yes")
    assert ask is not None
    order = OrderRequest(ticker, BookSide.BID, D(2), ask.price, str(uuid.uuid4()), TimeInForce.IMMEDIATE_OR_CANCEL)
    async with kalshi_client(sim) as kalshi:
        ack = await kalshi.create_order(order)
        assert ack.fill_count > 0
        sim.exchange.settle(ticker, "yes", sim.clock.now())
        settlements = await kalshi.settlements(ticker=ticker)
    assert [(s.ticker, s.market_result, s.yes_count) for s in settlements] == [(ticker, "yes", ack.fill_count)]
    assert settlements[0].revenue_cents == int(ack.fill_count * 100)


async def test_reused_client_order_id_is_a_conflict_not_a_recovery(sim: Any) -> None:
    first = resting_bid(sim.board.tickers[8])
    reused = OrderRequest(first.ticker, BookSide.BID, D(5), D("0.02"), client_order_id=first.client_order_id)
    async with kalshi_client(sim) as kalshi:
        await kalshi.create_order(first)
        with pytest.raises(ConflictError):
            await kalshi.create_order(reused)
    assert len(sim.exchange.orders_with_client_id(first.client_order_id)) == 1


async def test_create_refused_by_every_attempt_says_so_and_places_nothing(sim: Any) -> None:
    order = resting_bid(sim.board.tickers[9])
    sim.faults.fail_next_429(3)
    async with kalshi_client(sim, retry=RetryPolicy(max_attempts=3, base_s=0.001, cap_s=0.01)) as kalshi:
        with pytest.raises(RateLimitedError):
            await kalshi.create_order(order)
    assert sim.exchange.orders_with_client_id(order.client_order_id) == []
