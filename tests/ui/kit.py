"""A demo engine over the project's simulator, frozen: both clocks stand still, nothing steps on its own.

The engine is fed through the real clients over loopback (series, markets, books, odds), each in sorted
order, and acts on its signals only when told, so two runs give the same state, the same orders and the
same screen. ``step`` moves the simulator one scenario step and feeds the engine again (signals update).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from engine.clock import PinnedClock
from engine.config.settings import Settings
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.odds_api.client import OddsApiClient
from engine.execution.model import Mode
from engine.mapping.teams import league_of_series
from engine.runtime.assemble import build_engine
from engine.runtime.engine import Engine
from engine.runtime.feeds import ODDS_MARKET_OF_KIND
from engine.runtime.lag import LagMonitor
from engine.sim import SimConfig, Simulator, run_simulator
from engine.store import open_store
from engine.store.base import Store
from tests.integration.clientkit import kalshi_client, odds_client

FROZEN_AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def frozen_clock() -> PinnedClock:
    return PinnedClock(FROZEN_AT, monotonic=lambda: 0.0)


@dataclass
class Demo:
    sim: Simulator
    engine: Engine
    store: Store
    rest: KalshiRestClient
    odds: OddsApiClient
    kinds: dict[str, set[str]]

    async def load(self) -> None:
        """Discover, read every book and every sport's odds, act on the signals, refresh the status."""
        listed = [s for s in await self.rest.series_raw(category="Sports") if league_of_series(s.get("ticker"))]
        listed.sort(key=lambda s: str(s["ticker"]))
        markets: list[Any] = []
        for s in listed:
            batch = await self.rest.markets_raw(series_ticker=s["ticker"], status="open")
            markets.extend(batch)
            found = league_of_series(s["ticker"])
            if batch and found is not None:
                self.kinds.setdefault(found[0].sport_key, set()).add(found[1])
        self.engine.apply_universe(listed, markets)
        await self.refresh()

    async def refresh(self) -> None:
        """Books and odds again (after a step), then orders, in a fixed order."""
        tickers = sorted(m.ticker for m in self.engine.pipeline.universe.markets)
        books = await self.rest.orderbooks(tickers)
        for ticker in sorted(books):
            self.engine.apply_book(ticker, books[ticker])
        for sport in sorted(self.kinds):
            wanted = sorted(ODDS_MARKET_OF_KIND[k] for k in self.kinds[sport])
            raw = await self.odds.odds_raw(sport, markets=wanted, bookmakers=self.engine.pipeline.profile.books)
            self.engine.apply_odds(sport, raw)
        await self.settle()

    async def settle(self) -> None:
        await self.engine.drain_orders()
        await self.engine.refresh_orders()
        self.engine.build_snapshot()

    async def step(self) -> None:
        await self.sim.scenario.step()
        await self.refresh()


def demo_settings(sim: Simulator, **extra: Any) -> Settings:
    return Settings(
        kalshi_base_url=sim.kalshi_url,
        kalshi_key_id=sim.key_id,
        kalshi_private_key_path=sim.private_key_path,
        odds_api_base_url=sim.odds_url,
        odds_api_key=SecretStr(sim.odds_api_key),
        **extra,
    )


@asynccontextmanager
async def frozen_demo(tmp_path: Path, mode: Mode = Mode.PAPER, *, load: bool = True) -> AsyncIterator[Demo]:
    clock = frozen_clock()
    async with run_simulator(SimConfig(seed=1, odds_credits=5000), clock=clock) as sim:
        store = await open_store(tmp_path / "engine.db")
        rest = kalshi_client(sim)
        odds = odds_client(sim, daily_credits=5000, odds_ttl_s=0.0)
        try:
            engine, _ = await build_engine(demo_settings(sim), store, clock, mode, rest=rest, demo=True)
            engine.monotonic = lambda: 0.0
            engine.lag = LagMonitor(monotonic=lambda: 0.0)
            demo = Demo(sim, engine, store, rest, odds, {})
            if load:
                await demo.load()
            yield demo
        finally:
            await odds.aclose()
            await rest.aclose()
            await store.close()
