"""The real Kalshi REST client against the simulator over 127.0.0.1: signing, pagination, retries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from clientkit import kalshi_client
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.connectors.errors import AuthError
from engine.connectors.kalshi.signing import ACCESS_SIGNATURE, KalshiSigner, load_private_key

pytestmark = pytest.mark.integration


class TamperingSigner(KalshiSigner):
    """Signs correctly, then flips one character of the signature."""

    def headers(self, method: str, url_or_path: str, timestamp_ms: int) -> dict[str, str]:
        headers = super().headers(method, url_or_path, timestamp_ms)
        sig = headers[ACCESS_SIGNATURE]
        headers[ACCESS_SIGNATURE] = ("A" if sig[0] != "A" else "B") + sig[1:]
        return headers


async def test_signed_requests_are_accepted(sim: Any) -> None:
    async with kalshi_client(sim) as kalshi:
        balance = await kalshi.balance()
        status = await kalshi.exchange_status()
        positions = await kalshi.positions()
    assert balance.balance == sim.config.starting_balance
    assert status.open
    assert positions == ()


async def test_tampered_signature_wrong_key_and_stale_timestamp_are_refused(sim: Any) -> None:
    good = KalshiSigner.from_file(sim.key_id, sim.private_key_path)
    tampered = TamperingSigner(sim.key_id, load_private_key(sim.private_key_path))
    stranger = KalshiSigner(sim.key_id, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    for signer in (tampered, stranger):
        async with kalshi_client(sim, signer=signer) as kalshi:
            with pytest.raises(AuthError) as info:
                await kalshi.balance()
        assert info.value.status == 401
        assert good.key_id not in str(info.value)
    async with kalshi_client(sim, wall_ms=lambda: 1_000_000) as kalshi:  # a timestamp from 1970
        with pytest.raises(AuthError):
            await kalshi.balance()


async def test_markets_paginate_to_the_end(sim: Any) -> None:
    async with kalshi_client(sim) as kalshi:
        pages = [page async for page in kalshi.pages("/markets", "markets", page_size=5)]
        markets = await kalshi.markets(page_size=7)
    tickers = [m.ticker for m in markets]
    assert len(pages) >= 3
    assert sorted(tickers) == sorted(sim.board.tickers)
    assert len(set(tickers)) == len(tickers)
    assert sum(len(p) for p in pages) == len(tickers)


async def test_series_events_and_orderbooks_match_the_exchange(sim: Any) -> None:
    async with kalshi_client(sim) as kalshi:
        series = await kalshi.series_list(category="Sports")
        events = await kalshi.events(series_ticker=series[0].ticker)
        tickers = list(sim.board.tickers)
        books = await kalshi.orderbooks(tickers)
        single = await kalshi.orderbook(tickers[0])
    assert series and all(s.category == "Sports" for s in series)
    assert events and all(e.markets for e in events)
    assert set(books) == set(tickers)
    for t in tickers:
        assert books[t] == sim.exchange.orderbook(t)
    assert single == sim.exchange.orderbook(tickers[0])
    assert kalshi.payload_errors == []


async def test_429_burst_absorbed_without_losing_a_request(sim: Any) -> None:
    tickers = list(sim.board.tickers)[:12]
    sim.faults.fail_next_429(6)
    async with kalshi_client(sim) as kalshi:
        books = await asyncio.gather(*(kalshi.orderbook(t) for t in tickers))
        assert kalshi.retries >= 6
    assert [b.ticker for b in books] == tickers
    assert all(b == sim.exchange.orderbook(b.ticker) for b in books)


async def test_5xx_on_reads_is_retried(sim: Any) -> None:
    sim.faults.fail_next_5xx(3)
    async with kalshi_client(sim) as kalshi:
        assert (await kalshi.exchange_status()).open
        assert kalshi.retries == 3


async def test_single_object_endpoints(sim: Any) -> None:
    ticker = sim.board.tickers[0]
    async with kalshi_client(sim) as kalshi:
        market = await kalshi.market(ticker)
        event = await kalshi.event(market.event_ticker)
        series = await kalshi.series(market.series_ticker)
        events = await kalshi.events(series_ticker=series.ticker)
    assert market.ticker == ticker and market.is_active
    assert ticker in {m.ticker for m in event.markets}
    assert series.ticker == event.series_ticker and series.fees.multiplier > 0
    assert market.event_ticker in {e.event_ticker for e in events}


async def test_exchange_status_is_read_per_shard(sim: Any) -> None:
    """get-exchange-status.md: the top-level flags reflect shard 0 only; baseball trades on shard 3."""
    async with kalshi_client(sim) as kalshi:
        sim.exchange.paused_shards.add(3)
        status = await kalshi.exchange_status()
    assert status.open and status.open_on(0)
    assert not status.open_on(3) and not status.open_on(7)
    assert {index for index, _, _ in status.shards} == {0, 3}
