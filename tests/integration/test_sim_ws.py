"""The simulator's Kalshi WebSocket over loopback: signed handshake, commands, seq, keep-alive and faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from clientkit import game_in
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from kalshi_ws_docs import LIFECYCLE_EVENT_TYPES, REQUIRED_MSG_FIELDS
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from engine.markets.kalshi import Level, Orderbook
from engine.sim import SimConfig, Simulator, run_simulator
from engine.sim.auth import sign

pytestmark = pytest.mark.integration
SignHeaders = Callable[[str, str], dict[str, str]]
TIMEOUT = 2.0


def _open(sim: Simulator, sign: SignHeaders) -> connect:
    """A signed connection; ``max_queue=None`` so unread messages never stall the closing handshake."""
    return connect(sim.ws_url, additional_headers=sign("GET", sim.ws_url), max_queue=None)


async def _recv(ws: ClientConnection) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
    doc: dict[str, Any] = json.loads(raw)
    return doc


async def _subscribe(ws: ClientConnection, channels: list[str], tickers: list[str] | None = None) -> None:
    params: dict[str, Any] = {"channels": channels}
    if tickers is not None:
        params["market_tickers"] = tickers
    await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": params}))


def _apply(book: dict[str, dict[Decimal, Decimal]], msg: dict[str, Any]) -> None:
    side = book[msg["side"]]
    price = Decimal(msg["price_dollars"])
    side[price] = side.get(price, Decimal(0)) + Decimal(msg["delta_fp"])
    if side[price] == 0:
        del side[price]


def _as_orderbook(ticker: str, book: dict[str, dict[Decimal, Decimal]]) -> Orderbook:
    def levels(side: str) -> tuple[Level, ...]:
        return tuple(Level(p, book[side][p]) for p in sorted(book[side], reverse=True))

    return Orderbook(ticker, levels("yes"), levels("no"))


def _from_snapshot(msg: dict[str, Any]) -> dict[str, dict[Decimal, Decimal]]:
    return {
        "yes": {Decimal(p): Decimal(c) for p, c in msg.get("yes_dollars_fp", [])},
        "no": {Decimal(p): Decimal(c) for p, c in msg.get("no_dollars_fp", [])},
    }


async def test_unsigned_handshake_is_refused(sim: Simulator) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(sim.ws_url):
            pass
    assert info.value.response.status_code == 401


async def test_snapshot_then_deltas_rebuild_the_exchange_book(sim: Simulator, sim_headers: SignHeaders) -> None:
    ticker = game_in(sim, "nba").home_ticker
    async with _open(sim, sim_headers) as ws:
        await _subscribe(ws, ["orderbook_delta"], [ticker])
        ack = await _recv(ws)
        assert ack["type"] == "subscribed" and ack["msg"]["channel"] == "orderbook_delta"
        snap = await _recv(ws)
        assert snap["type"] == "orderbook_snapshot" and snap["seq"] == 1
        book = _from_snapshot(snap["msg"])
        assert _as_orderbook(ticker, book) == sim.exchange.orderbook(ticker)
        seq = 1
        for _ in range(3):
            await sim.scenario.step()
        target = sim.exchange.orderbook(ticker)
        while _as_orderbook(ticker, book) != target:
            msg = await _recv(ws)
            assert msg["type"] == "orderbook_delta"
            assert msg["seq"] == seq + 1
            seq = msg["seq"]
            _apply(book, msg["msg"])
    assert seq > 1


async def test_use_yes_price_reports_the_no_side_in_yes_leg_pricing(sim: Simulator, sim_headers: SignHeaders) -> None:
    ticker = game_in(sim, "nba").home_ticker
    async with _open(sim, sim_headers) as legacy, _open(sim, sim_headers) as unified:
        await _subscribe(legacy, ["orderbook_delta"], [ticker])
        params = {"channels": ["orderbook_delta"], "market_tickers": [ticker], "use_yes_price": True}
        await unified.send(json.dumps({"id": 1, "cmd": "subscribe", "params": params}))
        assert (await _recv(legacy))["type"] == (await _recv(unified))["type"] == "subscribed"
        old, new = (await _recv(legacy))["msg"], (await _recv(unified))["msg"]
        assert new["yes_dollars_fp"] == old["yes_dollars_fp"] and old["no_dollars_fp"]
        flipped = sorted([f"{1 - Decimal(p):.4f}", c] for p, c in old["no_dollars_fp"])
        assert new["no_dollars_fp"] == flipped
        bid = sim.exchange.best_yes_bid(ticker)
        assert bid is not None
        sim.exchange.place_order(
            ticker=ticker, book_side="ask", price=bid + Decimal("0.05"), count=Decimal(1),
            time_in_force="good_till_canceled", post_only=True, self_trade_prevention="taker_at_cross",
            client_order_id="yes-leg", order_group_id="", expiration_ts=None, now=sim.scenario.clock(),
        )  # fmt: skip
        a, b = (await _recv(legacy))["msg"], (await _recv(unified))["msg"]
    assert a["side"] == b["side"] == "no"
    assert Decimal(a["price_dollars"]) == 1 - (bid + Decimal("0.05"))
    assert Decimal(b["price_dollars"]) == bid + Decimal("0.05")


async def test_seq_gap_fault_skips_one_number_and_get_snapshot_repairs(
    sim: Simulator, sim_headers: SignHeaders
) -> None:
    ticker = game_in(sim, "nba").home_ticker
    async with _open(sim, sim_headers) as ws:
        await _subscribe(ws, ["orderbook_delta"], [ticker])
        ack = await _recv(ws)
        await _recv(ws)
        sim.faults.seq_gap_next(ticker)
        await sim.scenario.step()
        first = await _recv(ws)
        assert first["seq"] == 3  # 2 was skipped
        cmd = {
            "id": 9,
            "cmd": "update_subscription",
            "params": {"sids": [ack["msg"]["sid"]], "market_tickers": [ticker], "action": "get_snapshot"},
        }
        await ws.send(json.dumps(cmd))
        while True:
            msg = await _recv(ws)
            if msg["type"] == "orderbook_snapshot":
                break
        assert _as_orderbook(ticker, _from_snapshot(msg["msg"])) == sim.exchange.orderbook(ticker)


async def test_user_channels_report_fills_orders_and_positions(sim: Simulator, sim_headers: SignHeaders) -> None:
    ticker = game_in(sim, "nba").home_ticker
    ask = sim.exchange.best_yes_ask(ticker)
    assert ask is not None
    async with _open(sim, sim_headers) as ws:
        await _subscribe(ws, ["fill", "user_orders", "market_positions", "ticker", "trade"])
        acks = [await _recv(ws) for _ in range(5)]
        assert [a["type"] for a in acks] == ["subscribed"] * 5
        sim.exchange.place_order(
            ticker=ticker,
            book_side="bid",
            price=ask,
            count=Decimal(3),
            time_in_force="immediate_or_cancel",
            post_only=False,
            self_trade_prevention="taker_at_cross",
            client_order_id="ws-1",
            order_group_id="",
            expiration_ts=None,
            now=sim.scenario.clock(),
        )
        seen: dict[str, dict[str, Any]] = {}
        while len(seen) < 5:
            msg = await _recv(ws)
            seen.setdefault(msg["type"], msg["msg"])
    assert seen["fill"]["count_fp"] == "3.00" and seen["fill"]["is_taker"] is True
    assert seen["fill"]["yes_price_dollars"] == f"{ask:.4f}"
    assert seen["user_order"]["client_order_id"] == "ws-1"
    assert seen["market_position"]["position_fp"] == "3.00"
    assert seen["trade"]["taker_side"] == "yes"
    assert seen["ticker"]["market_ticker"] == ticker


async def test_channel_messages_carry_every_documented_required_field(sim: Simulator, sim_headers: SignHeaders) -> None:
    game = game_in(sim, "nba")
    ticker = game.home_ticker
    ask = sim.exchange.best_yes_ask(ticker)
    assert ask is not None
    channels = ["orderbook_delta", "ticker", "trade", "fill", "market_positions", "user_orders", "order_group_updates"]
    async with _open(sim, sim_headers) as ws:
        await _subscribe(ws, channels, [ticker])
        # market_lifecycle_v2 takes no market filter: one for another market still hears about this one
        await _subscribe(ws, ["market_lifecycle_v2"], [game.away_ticker])
        seen: dict[str, list[dict[str, Any]]] = {}
        acks = 0
        while acks < len(channels) + 1:
            doc = await _recv(ws)
            acks += doc["type"] == "subscribed"
            seen.setdefault(doc["type"], []).append(doc)
        sim.exchange.place_order(
            ticker=ticker,
            book_side="bid",
            price=ask,
            count=Decimal(2),
            time_in_force="good_till_canceled",
            post_only=False,
            self_trade_prevention="taker_at_cross",
            client_order_id="doc-1",
            order_group_id="",
            expiration_ts=None,
            now=sim.scenario.clock(),
        )
        sim.exchange.create_order_group(Decimal(5))
        sim.scenario.finish_game(game.event_ticker, home_wins=True)
        while len(seen.get("market_lifecycle_v2", [])) < 4 or "order_group_updates" not in seen:
            doc = await _recv(ws)
            if doc["type"] in REQUIRED_MSG_FIELDS:
                seen.setdefault(doc["type"], []).append(doc)
    for kind in REQUIRED_MSG_FIELDS:
        assert seen.get(kind), f"no {kind} message"
        for doc in seen[kind]:
            missing = REQUIRED_MSG_FIELDS[kind] - set(doc["msg"])
            assert not missing, f"{kind} lacks {sorted(missing)}"
            assert isinstance(doc["sid"], int)
    trade = seen["trade"][0]["msg"]
    assert (trade["taker_outcome_side"], trade["taker_book_side"]) == ("yes", "bid")
    fill = seen["fill"][0]["msg"]
    assert (fill["outcome_side"], fill["book_side"]) == ("yes", "bid")
    life = [d["msg"] for d in seen["market_lifecycle_v2"] if d["msg"]["market_ticker"] == ticker]
    assert [m["event_type"] for m in life] == ["determined", "settled"]
    assert life[0]["result"] == "yes" and life[0]["settlement_value"] == "1.0000" and "settled_ts" in life[1]
    assert all(d["msg"]["event_type"] in LIFECYCLE_EVENT_TYPES for d in seen["market_lifecycle_v2"])


async def test_command_errors_use_documented_codes(sim: Simulator, sim_headers: SignHeaders) -> None:
    async with _open(sim, sim_headers) as ws:
        await ws.send("not json")
        assert (await _recv(ws))["msg"]["code"] == 1
        await ws.send(json.dumps({"id": 2, "cmd": "dance", "params": {}}))
        assert (await _recv(ws))["msg"]["code"] == 5
        await _subscribe(ws, ["nonsense"])
        assert (await _recv(ws))["msg"]["code"] == 8
        await _subscribe(ws, ["orderbook_delta"])
        assert (await _recv(ws))["msg"]["code"] == 14
        await ws.send(json.dumps({"id": 3, "cmd": "unsubscribe", "params": {"sids": [42]}}))
        assert (await _recv(ws))["msg"]["code"] == 7
        await _subscribe(ws, ["ticker"])
        assert (await _recv(ws))["type"] == "subscribed"
        await _subscribe(ws, ["ticker"])
        assert (await _recv(ws))["msg"]["code"] == 6
        await ws.send(json.dumps({"id": 4, "cmd": "list_subscriptions"}))
        listed = await _recv(ws)
        assert listed["type"] == "ok" and [s["channel"] for s in listed["msg"]] == ["ticker"]


async def test_malformed_fault_sends_invalid_json(sim: Simulator, sim_headers: SignHeaders) -> None:
    async with _open(sim, sim_headers) as ws:
        sim.faults.malformed_next_ws(1)
        await _subscribe(ws, ["ticker"])
        raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw)
        await sim.scenario.step()
        assert (await _recv(ws))["type"] == "ticker"


async def test_stalled_feed_stays_open_and_silent(sim: Simulator, sim_headers: SignHeaders) -> None:
    async with _open(sim, sim_headers) as ws:
        await _subscribe(ws, ["ticker"])
        await _recv(ws)
        sim.faults.stall_feeds(True)
        await sim.scenario.step()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.3)
        pong = await ws.ping()
        await asyncio.wait_for(pong, TIMEOUT)  # still connected: the server answers pings
        sim.faults.stall_feeds(False)
        assert (await _recv(ws))["type"] == "ticker"


async def test_drop_websockets_closes_abruptly(sim: Simulator, sim_headers: SignHeaders) -> None:
    async with _open(sim, sim_headers) as ws:
        await _subscribe(ws, ["ticker"])
        await _recv(ws)
        sim.faults.drop_websockets()
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert info.value.rcvd is None  # no close frame: the TCP connection just went away
    # a new connection works
    async with _open(sim, sim_headers) as ws:
        await _subscribe(ws, ["ticker"])
        assert (await _recv(ws))["type"] == "subscribed"


async def test_server_pings_with_heartbeat() -> None:
    async with run_simulator(SimConfig(seed=3, markets=4, ws_ping_interval_s=0.05)) as sim:
        key = serialization.load_pem_private_key(sim.private_key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        stamp = str(sim.clock.ms())
        headers = {
            "KALSHI-ACCESS-KEY": sim.key_id,
            "KALSHI-ACCESS-TIMESTAMP": stamp,
            "KALSHI-ACCESS-SIGNATURE": sign(key, stamp, "GET", "/trade-api/ws/v2"),
        }
        session = aiohttp.ClientSession()
        try:
            async with session.ws_connect(sim.ws_url, headers=headers, autoping=False) as ws:
                msg = await ws.receive(timeout=TIMEOUT)
        finally:
            await session.close()
    assert msg.type == aiohttp.WSMsgType.PING
    assert msg.data == b"heartbeat"


async def test_latency_delays_a_burst_without_serialising_it(sim: Simulator, sim_headers: SignHeaders) -> None:
    async with _open(sim, sim_headers) as ws:
        await _subscribe(ws, ["ticker"])
        await _recv(ws)
        sim.faults.latency_s = 0.2
        loop = asyncio.get_running_loop()
        start = loop.time()
        await sim.scenario.step()  # one ticker message per market
        for _ in range(len(sim.exchange.markets)):
            await _recv(ws)
        elapsed = loop.time() - start
    assert 0.2 <= elapsed < 0.2 * 5
