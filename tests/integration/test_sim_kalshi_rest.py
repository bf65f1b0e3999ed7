"""The simulator's Kalshi REST surface over real sockets: auth, pagination, payload shapes, limits, faults."""

from __future__ import annotations

import base64
import stat
import time
from collections.abc import Callable

import httpx
import pytest
from clientkit import game_in

from engine.markets.kalshi import parse_event, parse_market, parse_orderbook, parse_series
from engine.pricing.fees import FeeType
from engine.sim import Simulator

SignHeaders = Callable[[str, str], dict[str, str]]

pytestmark = pytest.mark.integration


async def _get(client: httpx.AsyncClient, sim: Simulator, headers: SignHeaders, path: str) -> httpx.Response:
    url = sim.kalshi_url + path
    return await client.get(url, headers=headers("GET", url))


async def test_key_file_is_private_and_signed_request_is_accepted(sim: Simulator, sim_headers: SignHeaders) -> None:
    assert stat.S_IMODE(sim.private_key_path.stat().st_mode) == 0o600
    async with httpx.AsyncClient() as client:
        resp = await _get(client, sim, sim_headers, "/portfolio/balance")
    assert resp.status_code == 200
    body = resp.json()
    assert body["balance_dollars"] == "10000.0000"
    assert body["balance"] == 1_000_000


async def test_tampered_stale_and_missing_signatures_are_refused(sim: Simulator, sim_headers: SignHeaders) -> None:
    url = sim.kalshi_url + "/portfolio/balance"
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 401
        headers = sim_headers("GET", url)
        raw = bytearray(base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"]))
        raw[10] ^= 0xFF
        tampered = {**headers, "KALSHI-ACCESS-SIGNATURE": base64.b64encode(bytes(raw)).decode()}
        assert (await client.get(url, headers=tampered)).status_code == 401
        # signed for another path
        other = sim_headers("GET", sim.kalshi_url + "/portfolio/positions")
        assert (await client.get(url, headers=other)).status_code == 401
        # wrong key id
        assert (await client.get(url, headers={**headers, "KALSHI-ACCESS-KEY": "nope"})).status_code == 401
        # stale: valid signature over a timestamp a minute old
        from cryptography.hazmat.primitives import serialization

        from engine.sim.auth import sign

        key = serialization.load_pem_private_key(sim.private_key_path.read_bytes(), password=None)
        old = str(sim.clock.ms() - 60_000)
        stale = {
            "KALSHI-ACCESS-KEY": sim.key_id,
            "KALSHI-ACCESS-TIMESTAMP": old,
            "KALSHI-ACCESS-SIGNATURE": sign(key, old, "GET", httpx.URL(url).path),  # type: ignore[arg-type]
        }
        resp = await client.get(url, headers=stale)
        assert resp.status_code == 401
        assert "stale" in resp.json()["message"]
        assert (await client.get(url, headers=headers)).status_code == 200


async def test_query_string_is_not_signed(sim: Simulator, sim_headers: SignHeaders) -> None:
    url = sim.kalshi_url + "/portfolio/fills?limit=5"
    async with httpx.AsyncClient() as client:
        resp = await client.get(url, headers=sim_headers("GET", url))
    assert resp.status_code == 200
    assert resp.json() == {"fills": [], "cursor": ""}


async def test_market_pagination_returns_every_market_once(sim: Simulator, sim_headers: SignHeaders) -> None:
    seen: list[str] = []
    cursor = ""
    pages = 0
    async with httpx.AsyncClient() as client:
        while True:
            resp = await _get(client, sim, sim_headers, f"/markets?limit=7&cursor={cursor}")
            assert resp.status_code == 200
            body = resp.json()
            seen.extend(parse_market(m).ticker for m in body["markets"])
            pages += 1
            cursor = body["cursor"]
            if not cursor:
                break
        assert (await _get(client, sim, sim_headers, "/markets?cursor=garbage!")).status_code == 400
    assert pages == 7
    assert sorted(seen) == sorted(sim.exchange.markets)
    assert len(set(seen)) == len(seen) == 48


async def test_events_series_and_markets_have_documented_shapes(sim: Simulator, sim_headers: SignHeaders) -> None:
    game = game_in(sim, "nba")
    async with httpx.AsyncClient() as client:
        events = (await _get(client, sim, sim_headers, "/events?with_nested_markets=true&limit=200")).json()
        series = (await _get(client, sim, sim_headers, "/series")).json()["series"]
        one = (await _get(client, sim, sim_headers, f"/markets?event_ticker={game.event_ticker}")).json()
        missing = await _get(client, sim, sim_headers, "/markets/KXNFLGAME-99JAN01AAABBB-AAA")
    parsed = [parse_event(e) for e in events["events"]]
    assert events["cursor"] == ""
    assert len(parsed) == len(sim.board.games)
    first = next(e for e in parsed if e.event_ticker == game.event_ticker)
    assert first.mutually_exclusive
    assert {m.ticker for m in first.markets} == set(game.tickers)
    assert first.competition in ("Pro Football", "Pro Basketball", "Pro Baseball", "Pro Hockey")
    infos = {s.ticker: s for s in (parse_series(s) for s in series)}
    assert set(infos) == {"KXNFLGAME", "KXNBAGAME", "KXMLBGAME", "KXNHLGAME"}
    assert infos["KXNBAGAME"].fees.fee_type is FeeType.QUADRATIC_WITH_MAKER_FEES
    markets = [parse_market(m) for m in one["markets"]]
    assert {m.ticker for m in markets} == set(game.tickers)
    for market in markets:
        assert market.is_active
        assert market.yes_ask is not None and market.yes_ask == sim.exchange.best_yes_ask(market.ticker)
        assert market.yes_sub_title == game.team_of(market.ticker).kalshi_name
    assert missing.status_code == 404


async def test_orderbooks_match_the_exchange(sim: Simulator, sim_headers: SignHeaders) -> None:
    tickers = list(sim.exchange.markets)[:3]
    async with httpx.AsyncClient() as client:
        single = (await _get(client, sim, sim_headers, f"/markets/{tickers[0]}/orderbook")).json()
        query = "&".join(f"tickers={t}" for t in tickers)
        multi = (await _get(client, sim, sim_headers, f"/markets/orderbooks?{query}")).json()
        shallow = (await _get(client, sim, sim_headers, f"/markets/{tickers[0]}/orderbook?depth=1")).json()
    assert parse_orderbook(tickers[0], single) == sim.exchange.orderbook(tickers[0])
    wire = single["orderbook_fp"]["yes_dollars"]
    assert [p for p, _ in wire] == sorted(p for p, _ in wire)  # ascending on the wire
    assert [b["ticker"] for b in multi["orderbooks"]] == tickers
    for entry in multi["orderbooks"]:
        assert parse_orderbook(entry["ticker"], entry) == sim.exchange.orderbook(entry["ticker"])
    assert len(shallow["orderbook_fp"]["yes_dollars"]) == 1
    assert shallow["orderbook_fp"]["yes_dollars"][0][0] == wire[-1][0]


async def test_exchange_status(sim: Simulator) -> None:
    async with httpx.AsyncClient() as client:
        body = (await client.get(sim.kalshi_url + "/exchange/status")).json()
    assert body["exchange_active"] is True and body["trading_active"] is True


async def test_read_bucket_answers_429_then_refills(sim: Simulator) -> None:
    clock = [1000.0]
    sim.context.monotonic = lambda: clock[0]  # frozen: no refill while the burst runs
    url = sim.kalshi_url + "/exchange/status"
    async with httpx.AsyncClient() as client:
        codes = [(await client.get(url)).status_code for _ in range(41)]
        assert codes == [200] * 40 + [429]  # Basic read bucket: 400 tokens, 10 per call
        limited = await client.get(url)
        assert limited.status_code == 429
        assert limited.json() == {"error": "too many requests"}
        clock[0] += 0.05  # 200 tokens/s: 10 tokens back, one more call
        assert (await client.get(url)).status_code == 200
        assert (await client.get(url)).status_code == 429


async def test_injected_5xx_429_and_latency(sim: Simulator) -> None:
    url = sim.kalshi_url + "/exchange/status"
    async with httpx.AsyncClient() as client:
        sim.faults.fail_next_5xx(2)
        sim.faults.fail_next_429(1)
        codes = [(await client.get(url)).status_code for _ in range(4)]
        assert codes == [503, 503, 429, 200]
        sim.faults.latency_s = 0.2
        start = time.monotonic()
        assert (await client.get(url)).status_code == 200
        assert time.monotonic() - start >= 0.2
