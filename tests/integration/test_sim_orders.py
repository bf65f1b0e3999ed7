"""Orders against the simulator over HTTP: IOC, FOK, GTC, post-only, partial fills, fees, netting,
settlement, order groups and the connection-reset fault.

Every test runs with the simulator's clock pinned at several hours and weekdays (at 23:10 UTC the earliest
game of the board is baseball, on shard 3) and on a market of shard 0 and of shard 3, chosen by those facts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from engine.clock import PinnedClock
from engine.money import ONE, ZERO
from engine.pricing.fees import buy_fees_charged
from engine.sim import SimConfig, Simulator, run_simulator

pytestmark = pytest.mark.integration
SignHeaders = Callable[[str, str], dict[str, str]]
INSTANTS = {
    "tue-15:00": datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    "tue-23:10": datetime(2026, 12, 1, 23, 10, tzinfo=UTC),
    "sat-04:30": datetime(2026, 12, 5, 4, 30, tzinfo=UTC),
    "sun-19:45": datetime(2027, 3, 14, 19, 45, tzinfo=UTC),  # the day US clocks spring forward
}
SHARDS = (0, 3)


@pytest.fixture(params=list(INSTANTS))
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    async with run_simulator(SimConfig(seed=1), clock=PinnedClock(INSTANTS[request.param])) as simulator:
        yield simulator


@pytest.fixture(params=SHARDS, ids=lambda shard: f"shard{shard}")
def shard(request: pytest.FixtureRequest) -> int:
    value: int = request.param
    return value


def test_the_pinned_instants_include_a_board_whose_first_game_is_baseball() -> None:
    """The hour that once turned CI red stays covered, whatever the board generator does."""
    from engine.sim.board import generate_board

    cfg = SimConfig(seed=1)
    firsts = {generate_board(cfg.seed, cfg.markets // 2, cfg.leagues, at).games[0].league for at in INSTANTS.values()}
    assert "mlb" in firsts and len(firsts) > 1


def _order(ticker: str, side: str, price: Decimal, count: str, tif: str, **extra: Any) -> dict[str, Any]:
    return {
        "ticker": ticker,
        "side": side,
        "count": count,
        "price": f"{price:.4f}",
        "time_in_force": tif,
        "self_trade_prevention_type": "taker_at_cross",
        **extra,
    }


async def _post(client: httpx.AsyncClient, sim: Simulator, sign: SignHeaders, body: dict[str, Any]) -> httpx.Response:
    url = sim.kalshi_url + "/portfolio/events/orders"
    return await client.post(url, json=body, headers=sign("POST", url))


async def _get(client: httpx.AsyncClient, sim: Simulator, sign: SignHeaders, path: str) -> dict[str, Any]:
    url = sim.kalshi_url + path
    resp = await client.get(url, headers=sign("GET", url))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _market_on(sim: Simulator, shard: int) -> str:
    """The first open market of a game whose market trades on ``shard`` (a fact, not a board position)."""
    for game in sim.board.games:
        if sim.exchange.shard_of(game.home_ticker) == shard and sim.exchange.best_yes_ask(game.home_ticker):
            return game.home_ticker
    raise AssertionError(f"the board has no open market on shard {shard}")


async def test_ioc_buy_fills_at_the_ask_and_charges_kalshi_fees(
    sim: Simulator, sim_headers: SignHeaders, shard: int
) -> None:
    ticker = _market_on(sim, shard)
    ask = sim.exchange.orderbook(ticker).best_ask("yes")
    assert ask is not None
    schedule = sim.exchange.markets[ticker].fees
    async with httpx.AsyncClient() as client:
        resp = await _post(client, sim, sim_headers, _order(ticker, "bid", ask.price, "10", "immediate_or_cancel"))
        assert resp.status_code == 201, resp.text
        body = resp.json()
        balance = await _get(client, sim, sim_headers, "/portfolio/balance")
        positions = await _get(client, sim, sim_headers, f"/portfolio/positions?ticker={ticker}")
        fills = await _get(client, sim, sim_headers, "/portfolio/fills")
        order = await _get(client, sim, sim_headers, f"/portfolio/orders/{body['order_id']}")
    fee = buy_fees_charged([(ask.price, Decimal(10))], schedule)
    assert body["fill_count"] == "10.00" and body["remaining_count"] == "0.00"
    assert Decimal(body["average_fill_price"]) == ask.price
    assert Decimal(balance["balance_dollars"]) == Decimal("10000") - ask.price * 10 - fee
    assert positions["market_positions"][0]["position_fp"] == "10.00"
    assert Decimal(positions["market_positions"][0]["fees_paid_dollars"]) == fee
    assert len(fills["fills"]) == 1 and fills["fills"][0]["is_taker"] is True
    assert order["order"]["status"] == "executed"
    level = sim.exchange.orderbook(ticker).best_ask("yes")
    assert level is not None and level.count == ask.count - 10


async def test_ioc_partial_fill_cancels_the_rest(sim: Simulator, sim_headers: SignHeaders, shard: int) -> None:
    ticker = _market_on(sim, shard)
    ask = sim.exchange.orderbook(ticker).best_ask("yes")
    assert ask is not None
    want = ask.count + 5
    async with httpx.AsyncClient() as client:
        resp = await _post(client, sim, sim_headers, _order(ticker, "bid", ask.price, f"{want}", "immediate_or_cancel"))
    body = resp.json()
    assert Decimal(body["fill_count"]) == ask.count
    assert body["remaining_count"] == "0.00"
    assert sim.exchange.orders[body["order_id"]].status == "canceled"


async def test_fok_too_big_fills_nothing(sim: Simulator, sim_headers: SignHeaders, shard: int) -> None:
    ticker = _market_on(sim, shard)
    ask = sim.exchange.orderbook(ticker).best_ask("yes")
    assert ask is not None
    before = sim.exchange.orderbook(ticker)
    async with httpx.AsyncClient() as client:
        too_big = _order(ticker, "bid", ask.price, f"{ask.count + 1}", "fill_or_kill")
        resp = await _post(client, sim, sim_headers, too_big)
        assert resp.status_code == 201
        assert resp.json()["fill_count"] == "0.00"
        assert sim.exchange.orderbook(ticker) == before
        assert sim.exchange.balance == Decimal("10000")
        ok = await _post(client, sim, sim_headers, _order(ticker, "bid", ask.price, f"{ask.count}", "fill_or_kill"))
    assert ok.json()["fill_count"] == f"{ask.count:.2f}"
    assert sim.exchange.balance < Decimal("10000")


async def test_gtc_rests_then_cancels(sim: Simulator, sim_headers: SignHeaders, shard: int) -> None:
    ticker = _market_on(sim, shard)
    bid = sim.exchange.best_yes_bid(ticker)
    assert bid is not None
    price = bid - Decimal("0.05")
    async with httpx.AsyncClient() as client:
        resp = await _post(
            client, sim, sim_headers, _order(ticker, "bid", price, "7", "good_till_canceled", client_order_id="gtc-1")
        )
        assert resp.status_code == 201
        order_id = resp.json()["order_id"]
        levels = {lvl.price: lvl.count for lvl in sim.exchange.orderbook(ticker).yes_bids}
        assert levels[price] >= 7
        listed = await _get(client, sim, sim_headers, "/portfolio/orders?status=resting")
        assert [o["client_order_id"] for o in listed["orders"]] == ["gtc-1"]
        url = f"{sim.kalshi_url}/portfolio/events/orders/{order_id}"
        cancel = await client.delete(f"{url}?market_ticker={ticker}", headers=sim_headers("DELETE", url))
    assert cancel.status_code == 200
    assert cancel.json()["reduced_by"] == "7.00"
    assert sim.exchange.orders_with_client_id("gtc-1")[0].status == "canceled"
    assert price not in {lvl.price for lvl in sim.exchange.orderbook(ticker).yes_bids} or levels[price] > 7


async def test_post_only_that_would_cross_is_rejected(sim: Simulator, sim_headers: SignHeaders, shard: int) -> None:
    ticker = _market_on(sim, shard)
    ask = sim.exchange.best_yes_ask(ticker)
    assert ask is not None
    async with httpx.AsyncClient() as client:
        crossing = await _post(
            client, sim, sim_headers, _order(ticker, "bid", ask, "1", "good_till_canceled", post_only=True)
        )
        resting = await _post(
            client,
            sim,
            sim_headers,
            _order(ticker, "bid", ask - Decimal("0.10"), "1", "good_till_canceled", post_only=True),
        )
    assert crossing.status_code == 400
    assert resting.status_code == 201 and resting.json()["fill_count"] == "0.00"


@pytest.mark.parametrize(
    "patch",
    [
        {"side": "buy"},
        {"count": 10},
        {"count": "-1"},
        {"count": "1.001"},
        {"price": "1.0000"},
        {"price": "0.12345"},
        {"price": "0.555"},
        {"time_in_force": "GTT"},
        {"self_trade_prevention_type": None},
        {"ticker": ""},
    ],
)
async def test_bad_orders_are_400_and_change_nothing(
    sim: Simulator, sim_headers: SignHeaders, patch: dict[str, Any]
) -> None:
    body = _order(_market_on(sim, 0), "bid", Decimal("0.50"), "1", "good_till_canceled")
    body.update(patch)
    body = {k: v for k, v in body.items() if v is not None}
    async with httpx.AsyncClient() as client:
        resp = await _post(client, sim, sim_headers, body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "invalid_parameters"
    assert sim.exchange.orders == {}


async def test_selling_yes_nets_the_position_and_pays_out(sim: Simulator, sim_headers: SignHeaders, shard: int) -> None:
    ticker = _market_on(sim, shard)
    ask = sim.exchange.best_yes_ask(ticker)
    bid = sim.exchange.best_yes_bid(ticker)
    assert ask is not None and bid is not None
    async with httpx.AsyncClient() as client:
        await _post(client, sim, sim_headers, _order(ticker, "bid", ask, "5", "immediate_or_cancel"))
        sell = await _post(client, sim, sim_headers, _order(ticker, "ask", bid, "5", "immediate_or_cancel"))
        pos = await _get(client, sim, sim_headers, f"/portfolio/positions?ticker={ticker}")
    assert sell.json()["fill_count"] == "5.00"
    assert Decimal(sell.json()["average_fill_price"]) == bid
    market = pos["market_positions"][0]
    assert market["position_fp"] == "0.00"
    assert market["market_exposure_dollars"] == "0.0000"
    fees = Decimal(market["fees_paid_dollars"])
    # bought at the ask, sold at the bid: lose the spread plus fees, nothing else
    assert sim.exchange.balance == Decimal("10000") - (ask - bid) * 5 - fees
    assert Decimal(market["realized_pnl_dollars"]) == (bid - ask) * 5


async def test_resting_order_is_filled_as_maker_when_prices_move(
    sim: Simulator, sim_headers: SignHeaders, shard: int
) -> None:
    ticker = _market_on(sim, shard)
    bid = sim.exchange.best_yes_bid(ticker)
    assert bid is not None
    price = bid + Decimal("0.01")
    async with httpx.AsyncClient() as client:
        await _post(client, sim, sim_headers, _order(ticker, "bid", price, "4", "good_till_canceled"))
    # the market maker now bids NO at 1 - price: it takes the user's resting YES bid
    sim.exchange.quote_house(ticker, [], [(ONE - price, Decimal(10))], sim.scenario.clock())
    order = sim.exchange.user_orders()[0]
    assert order.status == "executed" and order.filled == 4
    fill = sim.exchange.fills[-1]
    assert fill.is_taker is False
    assert order.maker_fees >= ZERO
    assert sim.exchange.positions[ticker].position == 4


async def test_settlement_pays_winners(sim: Simulator, sim_headers: SignHeaders, shard: int) -> None:
    ticker = _market_on(sim, shard)
    ask = sim.exchange.best_yes_ask(ticker)
    assert ask is not None
    async with httpx.AsyncClient() as client:
        await _post(client, sim, sim_headers, _order(ticker, "bid", ask, "3", "immediate_or_cancel"))
        before = sim.exchange.balance
        sim.exchange.settle(ticker, "yes", sim.scenario.clock())
        body = await _get(client, sim, sim_headers, "/portfolio/settlements")
        market = await _get(client, sim, sim_headers, f"/markets/{ticker}")
    assert sim.exchange.balance == before + 3
    assert body["settlements"][0]["revenue"] == 300
    assert body["settlements"][0]["market_result"] == "yes"
    assert market["market"]["status"] == "finalized" and market["market"]["result"] == "yes"


async def test_order_group_trigger_cancels_its_orders(sim: Simulator, sim_headers: SignHeaders, shard: int) -> None:
    ticker = _market_on(sim, shard)
    bid = sim.exchange.best_yes_bid(ticker)
    assert bid is not None
    async with httpx.AsyncClient() as client:
        url = sim.kalshi_url + "/portfolio/order_groups/create"
        body = {"contracts_limit": 5, "exchange_index": shard}
        group = await client.post(url, json=body, headers=sim_headers("POST", url))
        assert group.status_code == 201
        gid = group.json()["order_group_id"]
        low = bid - Decimal("0.05")
        await _post(client, sim, sim_headers, _order(ticker, "bid", low, "2", "good_till_canceled", order_group_id=gid))
        url = f"{sim.kalshi_url}/portfolio/order_groups/{gid}/trigger"
        routed = f"{url}?exchange_index={shard}"
        assert (await client.put(routed, headers=sim_headers("PUT", url))).status_code == 200
        refused = await _post(
            client, sim, sim_headers, _order(ticker, "bid", low, "2", "good_till_canceled", order_group_id=gid)
        )
        url = f"{sim.kalshi_url}/portfolio/order_groups/{gid}/reset"
        routed = f"{url}?exchange_index={shard}"
        assert (await client.put(routed, headers=sim_headers("PUT", url))).status_code == 200
    assert [o.status for o in sim.exchange.user_orders()] == ["canceled"]
    assert refused.status_code == 409


async def test_connection_reset_after_order_places_it_exactly_once(
    sim: Simulator, sim_headers: SignHeaders, shard: int
) -> None:
    ticker = _market_on(sim, shard)
    ask = sim.exchange.best_yes_ask(ticker)
    assert ask is not None
    sim.faults.reset_after_next_order()
    body = _order(ticker, "bid", ask, "2", "immediate_or_cancel", client_order_id="reset-1")
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.TransportError):
            await _post(client, sim, sim_headers, body)
        listed = await _get(client, sim, sim_headers, "/portfolio/orders")
    assert [o["client_order_id"] for o in listed["orders"]] == ["reset-1"]
    assert len(sim.exchange.orders_with_client_id("reset-1")) == 1
    assert sim.exchange.positions[ticker].position == 2


async def test_write_bucket_limits_orders(sim: Simulator, sim_headers: SignHeaders, shard: int) -> None:
    ticker = _market_on(sim, shard)
    bid = sim.exchange.best_yes_bid(ticker)
    assert bid is not None
    sim.context.monotonic = lambda: 10.0  # frozen: the bucket does not refill during the burst
    codes = []
    async with httpx.AsyncClient() as client:
        for _ in range(11):
            resp = await _post(
                client, sim, sim_headers, _order(ticker, "bid", bid - Decimal("0.05"), "1", "good_till_canceled")
            )
            codes.append(resp.status_code)
    assert codes[:10] == [201] * 10  # Basic write bucket: 100 tokens, 10 per order
    assert codes[10] == 429


async def test_client_order_id_is_refused_when_reused(sim: Simulator, sim_headers: SignHeaders, shard: int) -> None:
    ticker = _market_on(sim, shard)
    ask = sim.exchange.best_yes_ask(ticker)
    assert ask is not None
    body = _order(ticker, "bid", ask, "1", "immediate_or_cancel", client_order_id="once")
    async with httpx.AsyncClient() as client:
        first = await _post(client, sim, sim_headers, body)
        second = await _post(client, sim, sim_headers, body)
    assert first.status_code == 201
    assert second.status_code == 409
    assert len(sim.exchange.orders_with_client_id("once")) == 1


async def test_fills_and_orders_filter_by_time_window(sim: Simulator, sim_headers: SignHeaders, shard: int) -> None:
    ticker = _market_on(sim, shard)
    ask = sim.exchange.best_yes_ask(ticker)
    assert ask is not None
    async with httpx.AsyncClient() as client:
        await _post(client, sim, sim_headers, _order(ticker, "bid", ask, "1", "immediate_or_cancel"))
        stamp = int(sim.exchange.fills[0].created.timestamp())
        inside = await _get(client, sim, sim_headers, f"/portfolio/fills?min_ts={stamp - 1}&max_ts={stamp + 1}")
        after = await _get(client, sim, sim_headers, f"/portfolio/fills?min_ts={stamp + 2}")
        before = await _get(client, sim, sim_headers, f"/portfolio/orders?max_ts={stamp - 2}")
    assert len(inside["fills"]) == 1
    assert after["fills"] == [] and before["orders"] == []


async def test_order_group_and_batch_cancel_bodies_follow_the_docs(sim: Simulator, sim_headers: SignHeaders) -> None:
    """get-order-group.md: no id in the body; get-order-groups.md: items keyed ``id``; batch-cancel-orders-v2.md:
    an entry that could not be cancelled carries ``error`` and a null ``ts_ms``."""
    async with httpx.AsyncClient() as client:
        url = sim.kalshi_url + "/portfolio/order_groups/create"
        created = await client.post(url, json={"contracts_limit_fp": "5.00"}, headers=sim_headers("POST", url))
        assert created.status_code == 201 and set(created.json()) >= {"order_group_id", "subaccount"}
        gid = created.json()["order_group_id"]
        one = await _get(client, sim, sim_headers, f"/portfolio/order_groups/{gid}")
        listed = await _get(client, sim, sim_headers, "/portfolio/order_groups")
        url = sim.kalshi_url + "/portfolio/events/orders/batched"
        body = {"orders": [{"order_id": "no-such-order"}]}
        resp = await client.request("DELETE", url, json=body, headers=sim_headers("DELETE", url))
    assert one == {"is_auto_cancel_enabled": False, "contracts_limit_fp": "5.00", "orders": [], "exchange_index": 0}
    assert listed["order_groups"] == [
        {"id": gid, "contracts_limit_fp": "5.00", "is_auto_cancel_enabled": False, "exchange_index": 0}
    ]
    (entry,) = resp.json()["orders"]
    assert entry["reduced_by"] == "0.00" and entry["ts_ms"] is None and entry["error"]["code"] == "not_found"


async def test_cancel_without_a_route_looks_on_shard_zero_only(sim: Simulator, sim_headers: SignHeaders) -> None:
    """exchange_sharding.md: exchange_index >= 0 routes there; else market_ticker auto-routes; else shard 0."""
    mlb = next(g for g in sim.board.games if g.league == "mlb")
    ticker = mlb.home_ticker
    async with httpx.AsyncClient() as client:
        market = await _get(client, sim, sim_headers, f"/markets/{ticker}")
        placed = await _post(
            client, sim, sim_headers, _order(ticker, "bid", Decimal("0.01"), "1", "good_till_canceled")
        )
        oid = placed.json()["order_id"]
        base = f"{sim.kalshi_url}/portfolio/events/orders/{oid}"
        lost = await client.delete(base, headers=sim_headers("DELETE", base))
        wrong = await client.delete(base + "?exchange_index=0", headers=sim_headers("DELETE", base))
        routed = await client.delete(base + f"?market_ticker={ticker}", headers=sim_headers("DELETE", base))
    assert market["market"]["exchange_index"] == 3
    assert (lost.status_code, wrong.status_code, routed.status_code) == (404, 404, 200)
    assert routed.json()["reduced_by"] == "1.00"


async def test_records_of_a_baseball_market_name_its_shard(sim: Simulator, sim_headers: SignHeaders) -> None:
    ticker = next(g for g in sim.board.games if g.league == "mlb").home_ticker
    ask = sim.exchange.orderbook(ticker).best_ask("yes")
    assert ask is not None
    async with httpx.AsyncClient() as client:
        placed = await _post(client, sim, sim_headers, _order(ticker, "bid", ask.price, "1", "immediate_or_cancel"))
        order = await _get(client, sim, sim_headers, f"/portfolio/orders/{placed.json()['order_id']}")
        fills = await _get(client, sim, sim_headers, f"/portfolio/fills?ticker={ticker}")
        positions = await _get(client, sim, sim_headers, f"/portfolio/positions?ticker={ticker}")
    assert order["order"]["exchange_index"] == 3
    assert [f["exchange_index"] for f in fills["fills"]] == [3]
    assert [p["exchange_index"] for p in positions["market_positions"]] == [3]


async def test_positions_count_filter_keeps_rows_with_any_named_field_non_zero(
    sim: Simulator, sim_headers: SignHeaders, shard: int
) -> None:
    ticker = _market_on(sim, shard)
    ask, bid = sim.exchange.best_yes_ask(ticker), sim.exchange.best_yes_bid(ticker)
    assert ask is not None and bid is not None
    async with httpx.AsyncClient() as client:
        await _post(client, sim, sim_headers, _order(ticker, "bid", ask, "1", "immediate_or_cancel"))
        await _post(client, sim, sim_headers, _order(ticker, "ask", bid, "1", "immediate_or_cancel"))
        flat = await _get(client, sim, sim_headers, "/portfolio/positions?count_filter=position")
        traded = await _get(client, sim, sim_headers, "/portfolio/positions?count_filter=position,total_traded")
        url = sim.kalshi_url + "/portfolio/positions?count_filter=volume"
        bad = await client.get(url, headers=sim_headers("GET", url))
    assert flat["market_positions"] == []
    assert [p["ticker"] for p in traded["market_positions"]] == [ticker]
    assert bad.status_code == 400
