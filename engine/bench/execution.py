"""``arbtui bench --only execution``: how long an order takes to be decided and to be acknowledged.

Three figures, measured on this machine and reported, not asserted: signal -> breaker -> paper order decided
(the pure path: proposal, ``engine.risk.check``, the paper matcher; microseconds); signal -> order acknowledged
by the local simulator over loopback (the live executor's V2 create, microseconds); and the store's durable
writes per second with ``synchronous=FULL`` (:mod:`engine.bench.store`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.bench.store import bench_store
from engine.clock import PinnedClock
from engine.connectors.http import RetryPolicy
from engine.connectors.kalshi.ratelimit import AsyncRateLimiter
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.signing import KalshiSigner
from engine.detection.signals import Side
from engine.execution.ids import client_order_id
from engine.execution.live import LiveExecutor
from engine.execution.model import Action, Mode, OrderIntent, TimeInForce
from engine.execution.paper import match
from engine.execution.proposals import proposal_for
from engine.risk.check import check
from engine.risk.limits import RiskLimits
from engine.risk.transitions import initial_state
from engine.sim import SimConfig, run_simulator

PINNED = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _percentiles(samples_us: list[float]) -> dict[str, float]:
    ordered = sorted(samples_us)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50_us": round(pick(0.50), 1), "p99_us": round(pick(0.99), 1), "n": len(ordered)}


def _intent(ticker: str, event: str, league: str, shard: int, i: int, limit: Decimal, mode: Mode) -> OrderIntent:
    key = f"bench|{ticker}|{i}"
    return OrderIntent(
        client_order_id=client_order_id(key, 0), ticker=ticker, event_ticker=event, league=league, side=Side.YES,
        action=Action.BUY, count=1, limit_price=limit, time_in_force=TimeInForce.IOC, mode=mode,
        created_at=PINNED, signal_key=key, exchange_index=shard,
    )  # fmt: skip


async def bench_execution(orders: int = 300) -> dict[str, Any]:
    clock = PinnedClock(PINNED)
    limits = RiskLimits()
    async with run_simulator(SimConfig(seed=1, rate_limits=False), clock=clock) as sim:
        game = next(g for g in sim.board.games if sim.exchange.shard_of(g.home_ticker) == 0)
        ticker = game.home_ticker
        book = sim.exchange.orderbook(ticker)
        fees = sim.exchange.markets[ticker].fees
        ask = book.asks("yes")[0].price
        state = initial_state(limits, clock.now())
        decided: list[float] = []
        for i in range(orders):
            start = time.perf_counter_ns()
            now = clock.now()
            intent = _intent(ticker, game.event_ticker, game.league, 0, i, ask, Mode.PAPER)
            proposal = proposal_for(intent, fees, book_at=now, shard_cash=Decimal(10000))
            decision = check(state, limits, proposal, now)
            if decision.allowed:
                match(intent, book, fees, now)
            decided.append((time.perf_counter_ns() - start) / 1000)
        signer = KalshiSigner.from_file(sim.key_id, sim.private_key_path)
        acked: list[float] = []
        # the prime tier's bucket, so the figure is the round trip and not the basic tier's 10 orders/s throttle
        limiter = AsyncRateLimiter.for_tier("prime")
        async with KalshiRestClient(
            sim.kalshi_url, signer, limiter=limiter, retry=RetryPolicy(max_attempts=1), wall_ms=clock.ms
        ) as rest:
            live = LiveExecutor(rest, None, clock.now)
            for i in range(min(orders, 100)):
                intent = _intent(ticker, game.event_ticker, game.league, 0, 10_000 + i, Decimal("0.01"), Mode.LIVE)
                start = time.perf_counter_ns()
                await live.execute(intent)
                acked.append((time.perf_counter_ns() - start) / 1000)
    store = await bench_store()
    return {
        "signal_to_paper_decision": _percentiles(decided),
        "signal_to_sim_ack": _percentiles(acked),
        "store": store,
    }
