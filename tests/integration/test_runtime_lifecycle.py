"""Lifecycle messages reach the market at once, over the simulator: a game that ends settles both its
markets, and their signals are withdrawn the moment the ``market_lifecycle_v2`` messages arrive, without
waiting for a re-discovery; no order is placed on them afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.markets.kalshi import KalshiMarket
from engine.sim import Simulator
from tests.integration.clientkit import eventually
from tests.integration.runtime_kit import running_engine, single_market_signal

pytestmark = pytest.mark.integration


async def test_a_settled_market_loses_its_signals_at_once(sim: Simulator, tmp_path: Path) -> None:
    async with running_engine(sim, tmp_path) as run:
        engine, feeds = run.engine, run.feeds
        signal = await single_market_signal(engine)
        game = sim.board.game_of(signal.ticker)
        assert game is not None
        tickers = set(game.tickers)
        market_events: list[str] = []
        withdrawn_at_once: list[bool] = []
        applied_at = []
        real_apply = engine.apply_market

        def watch(market: KalshiMarket) -> None:
            real_apply(market)
            market_events.append(market.ticker)
            applied_at.append(engine.clock.now())
            live = engine.pipeline.live.values()
            withdrawn_at_once.append(all(s.ticker != market.ticker and market.ticker not in s.tickers for s in live))

        engine.apply_market = watch  # type: ignore[method-assign]
        discoveries = feeds._rest_monitor.messages
        sim.scenario.finish_game(game.event_ticker)
        await eventually(lambda: tickers <= set(market_events), timeout_s=10)

        def finalized(ticker: str) -> bool:
            market = engine.pipeline.market(ticker)
            return market is not None and market.status == "finalized"

        # Each market gets ``determined`` and then ``settled``: the first already withdraws its signals.
        await eventually(lambda: all(map(finalized, tickers)), timeout_s=10)
        assert all(s.ticker not in tickers and not tickers & set(s.tickers) for s in engine.pipeline.live.values())
        assert all(withdrawn_at_once), "the signals go in the same step as the lifecycle message"
        assert feeds._rest_monitor.messages == discoveries, "applied directly, not by a re-discovery"
        samples = engine.lag.stats().samples
        await eventually(lambda: engine.lag.stats().samples > samples + 10, timeout_s=10)  # ticks and orders go on
        orders = await engine.desk.manager.store.orders()
        late = [o for o in orders if o.intent.ticker in tickers and o.intent.created_at >= min(applied_at)]
        assert not late, "no order on a settled market"
