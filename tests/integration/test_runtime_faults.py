"""The running engine against the simulator over loopback, with faults: a dropped WebSocket and a ``seq``
gap (books resync, the feed shows it), Odds API 429/5xx bursts (budget respected, the feed degraded, then down
while every call fails), a feed that stalls while connected (test_runtime_data.py), an exception inside one
market's evaluation (logged with the market, the loop goes on). The clock is the simulator's pinned one: no
test depends on the hour.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import engine.detection.board as board_module
from engine.runtime.engine import Engine
from engine.runtime.snapshot import FeedState
from engine.sim import Simulator
from tests.integration.clientkit import eventually
from tests.integration.runtime_kit import Running, feed_state, running_engine

pytestmark = pytest.mark.integration


@pytest.fixture
async def running(sim: Simulator, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    async with running_engine(sim, tmp_path, **getattr(request, "param", {})) as run:
        yield run


def _feed(engine: Engine, name: str) -> FeedState:
    return feed_state(engine, name)


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
    odds = engine.monitors["odds_api"]
    # Live signals can come from Kalshi-only groups before the first Odds API answer; a feed that has never
    # answered and then fails is DOWN, not DEGRADED, so the burst starts once the feed has answered.
    await eventually(lambda: odds.messages > 0, timeout_s=15)
    sport = next(iter(feeds.kinds_by_sport))
    (sim.faults.fail_next_429 if fault == "429" else sim.faults.fail_next_5xx)(50)
    await feeds.poll(sport)
    assert _feed(engine, "odds_api") is FeedState.DEGRADED
    # The burst outlasts a few polls (three attempts each): failed calls in a row read as DOWN.
    for _ in range(3):
        await feeds.poll(sport)
    health = next(f for f in engine.feed_health() if f.name == "odds_api")
    assert health.state is FeedState.DOWN and "calls failed in a row" in health.detail
    budget = feeds.odds.budget
    assert budget.spent_today <= budget.daily_credits


async def test_an_exception_in_one_markets_evaluation_is_logged_and_the_loop_goes_on(
    running: Running, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = running.engine

    def priced() -> list[str]:
        """Mapped markets with a live edge or arb signal: the screen passes them, so every change of their
        book runs the exact rules on them (the first entry of the mapping need not be one)."""
        matches = engine.pipeline.universe.mapping.matches
        return sorted({s.ticker for s in engine.pipeline.live.values() if s.ticker in matches})

    await eventually(lambda: bool(priced()), timeout_s=15)  # live signals can come before the first odds
    bad = priced()[0]
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
