"""The running engine against the simulator over loopback, with faults: a dropped WebSocket and a ``seq``
gap (books resync, the feed shows it), Odds API 429/5xx bursts (budget respected, feed degraded), a feed that
stalls while connected (orders refused on data age), an exception inside one market's evaluation (logged
with the market, the loop goes on). The clock is the simulator's pinned one: no test depends on the hour.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import engine.detection.board as board_module
from engine.config.settings import Settings
from engine.connectors.http import RetryPolicy
from engine.execution.model import Mode
from engine.runtime.assemble import build_engine
from engine.runtime.cadence import CadencePolicy
from engine.runtime.engine import Engine
from engine.runtime.feeds import FeedSettings, LiveFeeds
from engine.runtime.snapshot import FeedState
from engine.sim import Simulator
from engine.store import open_store
from tests.integration.clientkit import eventually, kalshi_client, kalshi_ws, odds_client

pytestmark = pytest.mark.integration


@dataclass
class Running:
    engine: Engine
    feeds: LiveFeeds


def _settings(sim: Simulator, **extra: Any) -> Settings:
    return Settings(
        kalshi_base_url=sim.kalshi_url,
        kalshi_key_id=sim.key_id,
        kalshi_private_key_path=sim.private_key_path,
        odds_api_base_url=sim.odds_url,
        odds_api_key=SecretStr(sim.odds_api_key),
        **extra,
    )


@pytest.fixture
async def running(sim: Simulator, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    extra = getattr(request, "param", {})
    settings = _settings(sim, **extra)
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
        ),
    )
    sim.start_autostep(0.2)
    feeds.start()
    try:
        await eventually(lambda: bool(engine.pipeline.live) and len(engine.pipeline.books) > 10, timeout_s=15)
        yield Running(engine, feeds)
    finally:
        await feeds.stop(order_timeout_s=2)
        await odds.aclose()
        await rest.aclose()
        await store.close()


def _feed(engine: Engine, name: str) -> FeedState:
    return next(f.state for f in engine.feed_health() if f.name == name)


async def test_signals_and_paper_fills_flow_and_status_has_every_field(running: Running) -> None:
    engine = running.engine
    await eventually(lambda: engine.desk.fills > 0, timeout_s=15)
    doc = engine.build_snapshot().to_json()
    for key in ("mode", "profile", "breaker", "feeds", "loop_lag_ms", "markets", "signals", "orders", "positions",
                "pnl"):  # fmt: skip
        assert key in doc
    assert doc["mode"] == "PAPER" and doc["markets"]["mapped"] > 0 and doc["markets"]["subscribed"] > 0
    assert doc["signals"]["live"] == len(engine.pipeline.live)
    assert doc["feeds"]["odds_api"]["credits_spent_today"] <= 200


async def test_a_dropped_websocket_and_a_seq_gap_resync_the_books(running: Running, sim: Simulator) -> None:
    engine, ws = running.engine, running.feeds.ws
    ticker = next(iter(engine.pipeline.books))
    sim.faults.seq_gap_next(None)
    await eventually(lambda: ws.books.gaps >= 1, timeout_s=10)
    assert _feed(engine, "kalshi_ws") is FeedState.DEGRADED
    connections = ws.connections
    stale_seen: list[str] = []
    original = engine.apply_book

    def watch(t: str, book: Any) -> None:
        if book is None:
            stale_seen.append(t)
        original(t, book)

    engine.apply_book = watch  # type: ignore[method-assign]
    sim.faults.drop_websockets()
    await eventually(lambda: ws.connections > connections, timeout_s=10)
    assert ticker in stale_seen, "a dropped connection must make every book untrusted until its snapshot"
    await eventually(lambda: ticker in engine.pipeline.books and bool(engine.pipeline.live), timeout_s=10)


@pytest.mark.parametrize("fault", ["429", "5xx"])
async def test_odds_api_bursts_keep_the_budget_and_show_the_feed_degraded(
    running: Running, sim: Simulator, fault: str
) -> None:
    engine, feeds = running.engine, running.feeds
    assert feeds.odds is not None
    sport = next(iter(feeds.kinds_by_sport))
    (sim.faults.fail_next_429 if fault == "429" else sim.faults.fail_next_5xx)(50)
    await feeds.poll(sport)
    assert _feed(engine, "odds_api") is FeedState.DEGRADED
    budget = feeds.odds.budget
    assert budget.spent_today <= budget.daily_credits


@pytest.mark.parametrize("running", [{"max_book_age_s": Decimal("0.5")}], indirect=True)
async def test_a_feed_that_stalls_while_connected_stops_orders_on_data_age(running: Running, sim: Simulator) -> None:
    engine = running.engine
    sim.faults.stall_feeds(True)
    try:
        await eventually(lambda: _feed(engine, "kalshi_ws") is FeedState.STALE, timeout_s=10)
        key, signal = next(iter(engine.pipeline.live.items()))
        outcome = await engine.desk.submit(signal, engine.pipeline.first_seen[key])
        assert outcome.placements and all(not p.allowed for p in outcome.placements)
        assert {p.rule for p in outcome.placements} == {"book_age"}
    finally:
        sim.faults.stall_feeds(False)


async def test_an_exception_in_one_markets_evaluation_is_logged_and_the_loop_goes_on(
    running: Running, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = running.engine
    bad = next(iter(engine.pipeline.universe.mapping.matches))
    real = board_module.evaluate_market

    def faulty(market: Any, *args: Any) -> Any:
        if market.ticker == bad:
            raise ZeroDivisionError("injected")
        return real(market, *args)

    monkeypatch.setattr(board_module, "evaluate_market", faulty)
    before = engine.pipeline.errors
    with caplog.at_level(logging.ERROR, logger="engine.runtime.pipeline"):
        await eventually(lambda: engine.pipeline.errors > before, timeout_s=10)
    assert any(bad in r.getMessage() and "injected" in r.getMessage() for r in caplog.records)
    assert all(s.ticker != bad for s in engine.pipeline.live.values())
    ticks = engine.lag.stats().samples
    await eventually(lambda: engine.lag.stats().samples > ticks + 3 and bool(engine.pipeline.live), timeout_s=10)
