"""The breaker trips on the Kalshi data itself, against the simulator's faults over loopback:

- the whole feed stalls on an open socket (``stall_feeds``): REDUCING on ``book_age``, lifted once it flows;
- the book channel goes silent while ``ticker`` messages keep coming (``stall_books``): REDUCING on
  ``feed_silent``, lifted once deltas flow again, and never a halt for the frozen books meanwhile;
- the ticker channel disagrees with correctly streamed books (``skew_ticker``): the book is distrusted at
  once (its signals withdrawn, a fresh snapshot asked for), and when fresh snapshots keep disagreeing the
  breaker HALTS on ``book_mismatch`` until the operator resumes.

The clock is the simulator's pinned one: no test depends on the hour.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from engine.risk.state import BreakerMode
from engine.sim import Simulator
from tests.integration.clientkit import eventually
from tests.integration.runtime_kit import running_engine

pytestmark = pytest.mark.integration


async def test_a_feed_stalled_while_connected_trips_reducing_on_book_age_and_lifts_when_it_flows(
    sim: Simulator, tmp_path: Path
) -> None:
    async with running_engine(sim, tmp_path, max_book_age_s=Decimal("0.5")) as run:
        engine = run.engine
        guard = engine.desk.guard
        assert guard.mode is BreakerMode.ACTIVE
        sim.faults.stall_feeds(True)
        try:
            await eventually(lambda: guard.mode is BreakerMode.REDUCING, timeout_s=10)
            assert guard.state.rule == "book_age" and "open connection" in guard.state.reason
            # distrusted books withdraw their signals: wait for one that is live (the halt must refuse it)
            await eventually(lambda: bool(engine.pipeline.live), timeout_s=10)
            key, signal = next(iter(engine.pipeline.live.items()))
            outcome = await engine.desk.submit(signal, engine.pipeline.first_seen[key])
            assert outcome.placements and {p.rule for p in outcome.placements} == {"reducing"}
            assert engine.build_snapshot().to_json()["breaker"]["state"] == "REDUCING"
        finally:
            sim.faults.stall_feeds(False)
        breaker_lines: list[str] = []

        def lifted() -> bool:
            while (event := engine.events.get_nowait()) is not None:
                if event.kind == "breaker":
                    breaker_lines.append(event.message)
            return any(m.startswith("breaker reducing -> active") for m in breaker_lines)

        await eventually(lifted, timeout_s=10)
        assert guard.mode is BreakerMode.ACTIVE
        assert any("-> reducing: book_age" in m for m in breaker_lines), breaker_lines


async def test_ticker_messages_without_book_changes_trip_feed_silent_not_a_halt(sim: Simulator, tmp_path: Path) -> None:
    async with running_engine(sim, tmp_path, max_feed_silence_s=Decimal("0.6")) as run:
        engine = run.engine
        guard = engine.desk.guard
        ticks = engine.last_ticker_at
        sim.faults.stall_books(True)
        try:
            await eventually(lambda: guard.mode is BreakerMode.REDUCING, timeout_s=10)
            assert guard.state.rule == "feed_silent"
            assert "ticker messages" in guard.state.reason and "without a book change" in guard.state.reason
            assert engine.last_ticker_at != ticks  # the ticker channel kept talking
            assert engine.mismatch.resyncs > 0  # frozen books disagree with it: their snapshots were asked for
        finally:
            sim.faults.stall_books(False)
        await eventually(lambda: guard.mode is BreakerMode.ACTIVE, timeout_s=10)
        assert guard.state.rule == ""
        await eventually(lambda: bool(engine.pipeline.live) and not engine.mismatch.open, timeout_s=10)
        assert guard.mode is BreakerMode.ACTIVE  # books resynced after the silence: no mismatch halt


async def test_a_book_disagreeing_with_the_ticker_is_distrusted_then_halts_the_breaker(
    sim: Simulator, tmp_path: Path
) -> None:
    async with running_engine(sim, tmp_path, max_feed_silence_s=Decimal("0.3")) as run:
        engine = run.engine
        guard = engine.desk.guard
        untrusted: list[str] = []
        apply_book = engine.apply_book

        def watch(ticker: str, book: object) -> None:
            if book is None:
                untrusted.append(ticker)
            apply_book(ticker, book)  # type: ignore[arg-type]

        engine.apply_book = watch  # type: ignore[method-assign]
        sim.faults.skew_ticker(Decimal("0.01"))
        try:
            await eventually(lambda: engine.mismatch.resyncs > 0 and bool(untrusted), timeout_s=10)
            flagged = set(engine.mismatch.open)
            assert flagged & set(untrusted), "a disagreeing book is distrusted at once (its signals withdrawn)"
            await eventually(lambda: guard.mode is BreakerMode.HALTED, timeout_s=15)
            assert guard.state.rule == "book_mismatch"
            assert "vs ticker" in guard.state.reason and "fresh snapshots" in guard.state.reason
            # distrusted books withdraw their signals: wait for one that is live (the halt must refuse it)
            await eventually(lambda: bool(engine.pipeline.live), timeout_s=10)
            key, signal = next(iter(engine.pipeline.live.items()))
            outcome = await engine.desk.submit(signal, engine.pipeline.first_seen[key])
            assert {p.rule for p in outcome.placements} == {"halted"}
        finally:
            sim.faults.skew_ticker(Decimal(0))
        await engine.resume()
        assert guard.mode is BreakerMode.ACTIVE, (guard.state.rule, guard.state.reason)
        await eventually(lambda: not engine.mismatch.open, timeout_s=10)
