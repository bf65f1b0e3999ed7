"""Runtime benchmark (reported, never asserted): the whole engine running against a simulated board of
2,000 markets x 4 books while the simulator moves every price each step.

The simulator runs in a child process, so the engine's event loop, its loop lag and its CPU time are its
own. Figures, over a measurement window after the board is subscribed and warmed up:

- book change -> signals updated: from the WebSocket reader taking a message to the engine's signals
  reflecting it, in process (microseconds);
- Odds API response -> signals updated: from a response's arrival to every one of its events re-priced,
  parsing in a worker included (milliseconds), with the events per response;
- loop lag: how late a 50 ms timer wakes (milliseconds), in the first half of the window (steady state)
  and in the second, which starts with a full re-map of the board (in a worker thread: the figure shows
  what the loop still feels of it);
- CPU share of one core: the process's CPU time over wall time (worker threads included).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from engine.bench.stats import environment, summary
from engine.clock import SYSTEM_CLOCK
from engine.config.settings import Settings
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.ws import KalshiWebSocket
from engine.connectors.odds_api.client import OddsApiClient
from engine.execution.model import Mode
from engine.runtime.assemble import build_engine
from engine.runtime.cadence import CadencePolicy
from engine.runtime.feeds import FeedSettings, LiveFeeds
from engine.runtime.lag import LOOP_GIL_SWITCH_S
from engine.sim import SimConfig, start_simulator
from engine.store import open_store

READY_TIMEOUT_S = 180.0


def _serve(conn: Connection, markets: int, step_interval_s: float, key_dir: str) -> None:
    """The child process: a simulator stepping every ``step_interval_s`` until the parent says stop."""

    async def main() -> None:
        sim = await start_simulator(SimConfig(markets=markets, odds_credits=10_000_000), Path(key_dir))
        try:
            sim.start_autostep(step_interval_s)
            conn.send(
                {
                    "kalshi_url": sim.kalshi_url,
                    "key_id": sim.key_id,
                    "key_path": str(sim.private_key_path),
                    "odds_url": sim.odds_url,
                    "odds_key": sim.odds_api_key,
                }
            )
            await asyncio.to_thread(conn.recv)
        finally:
            await sim.close()

    asyncio.run(main())


async def bench_runtime(markets: int = 2000, seconds: float = 20.0, step_interval_s: float = 2.0) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    with tempfile.TemporaryDirectory(prefix="arbtui-bench-runtime-") as tmp:
        process = context.Process(target=_serve, args=(child, markets, step_interval_s, tmp), daemon=True)
        process.start()
        try:
            if not await asyncio.to_thread(parent.poll, 60.0):
                raise RuntimeError("the benchmark's simulator did not start within 60 s")
            sim = parent.recv()
            return await _measure(sim, Path(tmp), markets, seconds, step_interval_s)
        finally:
            with contextlib.suppress(OSError):
                parent.send("stop")
            await asyncio.to_thread(process.join, 10.0)
            if process.is_alive():
                process.terminate()


async def _measure(sim: dict[str, str], tmp: Path, markets: int, seconds: float, step_s: float) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kalshi_base_url": sim["kalshi_url"],
        "kalshi_key_id": sim["key_id"],
        "kalshi_private_key_path": Path(sim["key_path"]),
        "odds_api_base_url": sim["odds_url"],
        "odds_api_key": SecretStr(sim["odds_key"]),
        "odds_api_daily_credits": 1_000_000,
        "paper_trading": True,
    }
    settings = Settings(**fields)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(LOOP_GIL_SWITCH_S)  # as `arbtui launch` runs the engine
    store = await open_store(tmp / "bench.db")
    rest = KalshiRestClient.from_settings(settings)
    ws = KalshiWebSocket.from_settings(settings)
    odds = OddsApiClient.from_settings(settings)
    feeds: LiveFeeds | None = None
    try:
        engine, _ = await build_engine(settings, store, SYSTEM_CLOCK, Mode.PAPER, rest=rest, demo=True)
        feed_settings = FeedSettings(
            bookmakers=engine.pipeline.profile.books,
            cadence=CadencePolicy(min_interval_s=4.0),
            latency_window=2_000_000,
        )
        feeds = LiveFeeds(engine, rest, ws, odds, feed_settings)
        started = time.perf_counter()
        feeds.start()
        deadline = started + READY_TIMEOUT_S
        while len(engine.pipeline.books) < markets * 0.95 or not feeds.odds_latency_s:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the engine did not load the board within {READY_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.2)
        ready_s = time.perf_counter() - started
        await asyncio.sleep(step_s * 2)  # warm-up: a couple of steps after the snapshots
        feeds.book_latency_s.clear()
        feeds.odds_latency_s.clear()
        engine.lag.reset()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds / 2)
        steady = engine.lag.stats()
        engine.lag.reset()
        remap_started = time.perf_counter()
        await engine.remap()  # a full re-map of the board in the middle of the window
        remap_ms = (time.perf_counter() - remap_started) * 1e3
        await asyncio.sleep(max(0.0, seconds - (time.perf_counter() - wall0)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        book = [s * 1e6 for s in feeds.book_latency_s]
        odds_ms = [s * 1e3 for s, _ in feeds.odds_latency_s]
        odds_events = [float(n) for _, n in feeds.odds_latency_s]
        lag = engine.lag.stats()
        return {
            "markets": markets,
            "books_held": len(engine.pipeline.books),
            "mapped": len(engine.pipeline.universe.mapping.matches),
            "signals_live": len(engine.pipeline.live),
            "simulator_step_s": step_s,
            "window_s": round(wall, 3),
            "ready_s": round(ready_s, 3),
            "book_change_to_signals_us": summary(book, 1) if book else {},
            "book_changes_per_s": round(len(book) / wall, 1),
            "odds_response_to_signals_ms": summary(odds_ms, 2) if odds_ms else {},
            "odds_events_per_response": summary(odds_events, 0) if odds_events else {},
            "loop_lag_ms_steady": {
                "p50": round(steady.p50_ms, 3),
                "p99": round(steady.p99_ms, 3),
                "max": round(steady.max_ms, 3),
                "n": steady.samples,
            },
            "loop_lag_ms_with_a_remap": {
                "p50": round(lag.p50_ms, 3),
                "p99": round(lag.p99_ms, 3),
                "max": round(lag.max_ms, 3),
                "n": lag.samples,
            },
            "remap_off_loop_ms": round(remap_ms, 1),
            "cpu_share_of_one_core": round(cpu / wall, 3),
            "environment": environment(),
        }
    finally:
        if feeds is not None:
            await feeds.stop(order_timeout_s=2)
        else:
            await ws.close()
        await odds.aclose()
        await rest.aclose()
        await store.close()
        sys.setswitchinterval(switch)
