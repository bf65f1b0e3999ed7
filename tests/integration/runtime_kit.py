"""A running engine over the simulator for the runtime tests: real clients, live feeds, fast cadences."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from engine.config.settings import Settings
from engine.connectors.http import RetryPolicy
from engine.detection.signals import Signal
from engine.execution.model import Mode
from engine.runtime.assemble import build_engine
from engine.runtime.cadence import CadencePolicy
from engine.runtime.engine import Engine
from engine.runtime.feeds import FeedSettings, LiveFeeds
from engine.runtime.snapshot import FeedState
from engine.sim import Simulator
from engine.store import open_store
from tests.integration.clientkit import eventually, kalshi_client, kalshi_ws, odds_client


@dataclass
class Running:
    engine: Engine
    feeds: LiveFeeds


def sim_settings(sim: Simulator, **extra: Any) -> Settings:
    return Settings(
        kalshi_base_url=sim.kalshi_url,
        kalshi_key_id=sim.key_id,
        kalshi_private_key_path=sim.private_key_path,
        odds_api_base_url=sim.odds_url,
        odds_api_key=SecretStr(sim.odds_api_key),
        **extra,
    )


@asynccontextmanager
async def running_engine(sim: Simulator, tmp_path: Path, **extra: Any) -> AsyncIterator[Running]:
    """The engine trading the simulator in PAPER mode, once it has books, the sportsbooks' odds mapped to its
    markets, and live signals (Kalshi-only signals alone can come before the first Odds API answer)."""
    settings = sim_settings(sim, **extra)
    store = await open_store(tmp_path / "engine.db")
    rest = kalshi_client(sim)
    ws = kalshi_ws(sim)
    odds = odds_client(
        sim, daily_credits=200, retry=RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.02), odds_ttl_s=0.0
    )
    engine, _ = await build_engine(settings, store, sim.clock, Mode.PAPER, rest=rest, demo=True)
    feeds = LiveFeeds(
        engine,
        rest,
        ws,
        odds,
        FeedSettings(
            bookmakers=engine.pipeline.profile.books,
            cadence=CadencePolicy(min_interval_s=0.5),
            tick_interval_s=0.2,
            snapshot_interval_s=0.1,
            ws_stale_after_s=1.0,
            overrides_interval_s=0.1,
        ),
    )
    sim.start_autostep(0.2)
    feeds.start()
    try:
        await eventually(
            lambda: (
                bool(engine.pipeline.live)
                and len(engine.pipeline.books) > 10
                and bool(engine.pipeline.universe.mapping.matches)
            ),
            timeout_s=15,
        )
        yield Running(engine, feeds)
    finally:
        await feeds.stop(order_timeout_s=2)
        await odds.aclose()
        await rest.aclose()
        await store.close()


def feed_state(engine: Engine, name: str) -> FeedState:
    return next(f.state for f in engine.feed_health() if f.name == name)


async def single_market_signal(engine: Engine, timeout_s: float = 10.0) -> Signal:
    """A live signal on one market (not a Kalshi-only group's): the board can hold only group signals for a
    moment after it goes live, so wait for one instead of taking the first."""
    await eventually(lambda: any(not s.tickers for s in engine.pipeline.live.values()), timeout_s=timeout_s)
    return next(s for s in engine.pipeline.live.values() if not s.tickers)
