"""The pipeline core: a profile switch takes effect on the next evaluation, a market whose evaluation raises
costs only that market, and a book that goes untrusted takes its signals with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

import engine.detection.board as board_module
from engine.clock import PinnedClock
from engine.config.profiles import build_profile
from engine.mapping.resolver import resolve
from engine.markets.kalshi import Orderbook
from engine.markets.snapshot import load_snapshot
from engine.runtime.pipeline import Pipeline, Universe
from engine.sim import SimConfig, run_simulator

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


async def _snapshot(tmp_path: Any) -> Any:
    import json

    async with run_simulator(SimConfig(seed=3), clock=PinnedClock(AT)) as sim:
        doc = sim.snapshot()
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(doc))
    return load_snapshot(path)


def _pipeline(snap: Any, profile: str = "STANDARD") -> Pipeline:
    pipeline = Pipeline(build_profile(profile), Decimal(10000), 100)
    pipeline.on_odds(snap.odds, snap.as_of)
    mapping = resolve(snap.markets, snap.odds)
    pipeline.set_universe(Universe(tuple(snap.markets), dict(snap.series), mapping), snap.as_of)
    for ticker, book in snap.orderbooks.items():
        pipeline.on_book(ticker, book, snap.as_of)
    return pipeline


async def test_profile_switch_applies_on_the_next_evaluation(tmp_path: Any) -> None:
    snap = await _snapshot(tmp_path)
    pipeline = _pipeline(snap, "CONSERVATIVE")
    before = len(pipeline.live)
    pipeline.set_profile(build_profile("VERY_AGGRESSIVE"))
    assert pipeline.profile.name == "CONSERVATIVE"  # not mid-pass
    pipeline.tick(snap.as_of + timedelta(seconds=1))
    assert pipeline.profile.name == "VERY_AGGRESSIVE"
    assert pipeline.board.ctx.profile.name == "VERY_AGGRESSIVE"
    assert len(pipeline.live) >= before


async def test_an_untrusted_book_drops_its_signals(tmp_path: Any) -> None:
    snap = await _snapshot(tmp_path)
    pipeline = _pipeline(snap, "VERY_AGGRESSIVE")
    signal = next(s for s in pipeline.live.values() if not s.tickers)
    diff = pipeline.on_book(signal.ticker, None, snap.as_of)
    assert signal.key in {s.key for s in diff.gone}
    assert signal.ticker not in pipeline.books
    assert all(s.ticker != signal.ticker for s in pipeline.live.values())
    pipeline.on_book(signal.ticker, snap.orderbooks[signal.ticker], snap.as_of)
    assert signal.ticker in pipeline.books


async def test_one_market_raising_costs_that_market_only(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    snap = await _snapshot(tmp_path)
    pipeline = _pipeline(snap, "VERY_AGGRESSIVE")
    signal = next(s for s in pipeline.live.values() if not s.tickers)
    others = {k for k, s in pipeline.live.items() if s.ticker != signal.ticker and not s.tickers}
    real = board_module.evaluate_market

    def faulty(market: Any, *args: Any) -> Any:
        if market.ticker == signal.ticker:
            raise RuntimeError("injected")
        return real(market, *args)

    monkeypatch.setattr(board_module, "evaluate_market", faulty)
    pipeline.board.forget_results()  # exact results reused at an unchanged state would skip the fault
    pipeline.tick(snap.as_of)
    assert pipeline.errors >= 1
    left = [(s.kind.value, s.ticker, s.tickers) for s in pipeline.live.values() if s.ticker == signal.ticker]
    assert all(s.ticker != signal.ticker for s in pipeline.live.values() if not s.tickers), left
    assert others <= set(pipeline.live)
    book = snap.orderbooks[signal.ticker]
    pipeline.on_book(signal.ticker, Orderbook(book.ticker, book.yes_bids, book.no_bids), snap.as_of)
    assert pipeline.errors >= 2
