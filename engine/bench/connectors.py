"""Connector benchmark (reported, never asserted): WebSocket book updates applied per second end to end
against the simulator, the client's own parse-and-apply capacity, and REST round trips p50/p99."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from engine.connectors.http import RetryPolicy
from engine.connectors.kalshi.local_book import LocalBooks
from engine.connectors.kalshi.messages import OrderbookDelta, OrderbookSnapshot, parse_message
from engine.connectors.kalshi.ratelimit import AsyncRateLimiter
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.signing import KalshiSigner
from engine.connectors.kalshi.ws import KalshiWebSocket

REST_SAMPLES = 300
WS_STEPS = 60
LOCAL_FRAMES = 50_000


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _rest_round_trips(sim: Any, signer: KalshiSigner) -> list[float]:
    limiter = AsyncRateLimiter.for_tier("prime")
    retry = RetryPolicy(max_attempts=3, base_s=0.001, cap_s=0.01)
    ticker = sim.board.tickers[0]
    out: list[float] = []
    async with KalshiRestClient(sim.kalshi_url, signer, limiter=limiter, retry=retry) as kalshi:
        await kalshi.orderbook(ticker)  # warm the pooled connection
        for _ in range(REST_SAMPLES):
            start = time.perf_counter()
            await kalshi.orderbook(ticker)
            out.append((time.perf_counter() - start) * 1000)
    return out


async def _ws_throughput(sim: Any, signer: KalshiSigner) -> tuple[float, int]:
    tickers = list(sim.board.tickers)
    async with KalshiWebSocket(sim.ws_url, signer) as ws:
        await ws.subscribe(["orderbook_delta"], tickers)
        await ws.wait_books(tickers, timeout_s=10)
        applied0 = ws.books.applied
        start = time.perf_counter()
        for _ in range(WS_STEPS):
            await sim.scenario.step()

        def caught_up() -> bool:
            return all(ws.orderbook(t) == sim.exchange.orderbook(t) for t in tickers)

        await ws.wait_until(caught_up, timeout_s=30)
        elapsed = time.perf_counter() - start
        applied = ws.books.applied - applied0
    return applied / elapsed if elapsed > 0 else 0.0, applied


def _local_apply_rate() -> float:
    """Parse + seq check + apply of pre-encoded delta frames, no socket: the client's ceiling."""
    ticker = "KXNBAGAME-26NOV25BOSNYK-BOS"
    books = LocalBooks()
    snap = parse_message(json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 1,
        "msg": {"market_ticker": ticker, "market_id": "x", "yes_dollars_fp": [["0.4000", "100.00"]],
                "no_dollars_fp": [["0.5500", "100.00"]]}}))  # fmt: skip
    assert isinstance(snap, OrderbookSnapshot)
    books.on_snapshot(snap, 0.0)
    frames = [
        json.dumps(
            {
                "type": "orderbook_delta",
                "sid": 1,
                "seq": i + 2,
                "msg": {
                    "market_ticker": ticker,
                    "market_id": "x",
                    "price_dollars": f"0.{40 + i % 10:02d}00",
                    "delta_fp": "5.00" if (i // 10) % 2 == 0 else "-5.00",
                    "side": "yes",
                    "ts_ms": i,
                },
            }
        )
        for i in range(LOCAL_FRAMES)
    ]
    start = time.perf_counter()
    for frame in frames:
        msg = parse_message(frame)
        assert isinstance(msg, OrderbookDelta)
        books.on_delta(msg, 0.0)
    assert not books.is_stale(ticker) and books.applied == LOCAL_FRAMES
    return LOCAL_FRAMES / (time.perf_counter() - start)


async def bench_connectors() -> dict[str, float]:
    """Start a simulator (no server-side rate limits), measure, stop it."""
    from engine.sim import SimConfig, run_simulator  # imported here: the other parts need no simulator

    async with run_simulator(SimConfig(seed=1, rate_limits=False)) as sim:
        signer = KalshiSigner.from_file(sim.key_id, sim.private_key_path)
        rtts = await _rest_round_trips(sim, signer)
        ws_rate, ws_applied = await _ws_throughput(sim, signer)
    return {
        "ws_book_updates_per_s": round(ws_rate, 1),
        "ws_book_updates_applied": float(ws_applied),
        "ws_local_apply_per_s": round(_local_apply_rate(), 1),
        "rest_rtt_p50_ms": round(statistics.median(rtts), 3),
        "rest_rtt_p99_ms": round(_percentile(rtts, 0.99), 3),
    }
