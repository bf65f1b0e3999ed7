"""A replay reproduces the breaker's data trips: the ticker messages, the market-data arrivals and the data
checks are recorded with the books, so a feed that went silent on an open connection (ticker messages
without a book change) trips ``feed_silent`` again when the recording is replayed, at the same instant and
with the same numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from engine.clock import PinnedClock
from engine.config.settings import Settings
from engine.execution.model import Mode
from engine.risk.proposal import Rule
from engine.risk.state import BreakerMode
from engine.runtime.assemble import build_engine, replay
from engine.runtime.engine import ReplayClock
from engine.runtime.recording import Recorder, RecordingError, load_recording
from engine.sim import Simulator
from engine.store import open_store
from tests.integration.clientkit import game_in, kalshi_client

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


async def test_a_silent_feed_trips_again_in_the_replay(sim: Simulator, tmp_path: Path) -> None:
    rest = kalshi_client(sim)
    try:
        series = [s for s in await rest.series_raw(category="Sports") if isinstance(s, dict)]
        ticker = game_in(sim, "nba").tickers[0]
        wanted = ticker.split("-", 1)[0]
        markets = await rest.markets_raw(series_ticker=wanted, status="open")
        book = await rest.orderbook(ticker)
    finally:
        await rest.aclose()

    path = tmp_path / "session.rec"
    clock = PinnedClock(T0)
    store = await open_store(tmp_path / "live.db")
    recorder = Recorder(path, {"demo": True})
    try:
        engine, _ = await build_engine(settings(), store, clock, Mode.PAPER, recorder=recorder)
        engine.apply_universe(series, markets)
        engine.note_message([ticker])
        engine.apply_book(ticker, book)
        engine.connected_since = T0
        await engine.check_data(True)
        assert engine.desk.guard.mode is BreakerMode.ACTIVE
        bid = book.yes_bids[0].price if book.yes_bids else None
        for _ in range(8):  # ticker messages every 5 s, no book change: silent for 40 s > 30 s
            clock.advance(timedelta(seconds=5))
            engine.note_message()
            engine.on_ticker(ticker, bid, D(1))
            await engine.check_data(True)
        live = engine.desk.guard.state
        assert live.mode is BreakerMode.REDUCING and live.rule == Rule.FEED_SILENT.value, live
    finally:
        recorder.close()
        await store.close()

    recording = load_recording(path)
    kinds = {e.kind for e in recording.entries}
    assert {"ticker", "message", "check"} <= kinds
    for run in ("replay1", "replay2"):
        store = await open_store(tmp_path / f"{run}.db")
        try:
            replay_clock = ReplayClock(recording.entries[0].ts)
            again, _ = await build_engine(settings(), store, replay_clock, Mode.PAPER)
            await replay(again, recording, replay_clock)
            state = again.desk.guard.state
            assert (state.mode, state.rule, state.reason) == (live.mode, live.rule, live.reason)
        finally:
            await store.close()


def test_a_bad_ticker_line_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.rec"
    path.write_text(
        '{"kind":"header","version":2}\n{"t":"2026-11-25T17:00:00Z","kind":"ticker","ticker":"X","yes_bid":"abc"}\n',
        encoding="utf-8",
    )
    with pytest.raises(RecordingError, match=r"line 2: yes_bid 'abc' is not a decimal"):
        load_recording(path)
