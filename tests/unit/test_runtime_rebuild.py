"""A new board is built off the loop and swapped in whole: mapping and building run in a worker thread, the
changes that arrive meanwhile are replayed onto the new board a bounded number per loop turn while the old
board serves, and nothing is priced from a half-updated board. Book changes diff only what they touched,
and the result is always the whole board's answer. No timing is asserted: the tests check where the work
runs and how much of it one loop turn does."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.config.settings import Settings
from engine.execution.model import Mode
from engine.markets.kalshi import Level, Orderbook
from engine.money import CENT, ONE
from engine.runtime import engine as engine_module
from engine.runtime.assemble import build_engine
from engine.runtime.engine import CATCH_UP_PER_TURN, Engine, inline
from engine.runtime.pipeline import Pipeline
from engine.runtime.rebuild import RawUniverse
from engine.store import open_store
from tests.unit.runtime_board import SimBoard, sim_board


async def _engine(tmp_path: Path, board: SimBoard, **settings: Any) -> Engine:
    store = await open_store(tmp_path / "engine.db")
    engine, _ = await build_engine(Settings(**settings), store, board.clock, Mode.PAPER, demo=True)
    return engine


def _load(engine: Engine, board: SimBoard) -> None:
    engine.apply_odds("all", board.odds)
    engine.apply_universe(board.series, board.markets)
    for ticker, book in board.books.items():
        engine.apply_book(ticker, book)


def _whole_board(pipeline: Pipeline) -> dict[Any, Any]:
    return {s.key: s for s in pipeline.board.signals()}


async def test_mapping_and_the_board_build_run_in_a_worker_thread(tmp_path: Path) -> None:
    board = await sim_board(seed=3)
    engine = await _engine(tmp_path, board)
    engine.apply_odds("all", board.odds)
    loop_thread = threading.get_ident()
    mapped_in: list[int] = []
    real_map = engine.mapper.map

    def spy(*args: Any) -> Any:
        mapped_in.append(threading.get_ident())
        return real_map(*args)

    engine.mapper.map = spy  # type: ignore[method-assign]
    built_in: list[int] = []
    real_build = engine_module.build_board

    def build_spy(plan: Any) -> Any:
        built_in.append(threading.get_ident())
        return real_build(plan)

    engine_module.build_board = build_spy  # type: ignore[assignment]
    try:
        await engine.load_universe(board.series, board.markets, engine.pipeline.lifecycle_mark())
    finally:
        engine_module.build_board = real_build  # type: ignore[assignment]
    assert mapped_in and built_in
    assert loop_thread not in mapped_in + built_in, "mapping and building must never run on the event loop"
    assert len(engine.pipeline.universe.mapping.matches) > 0
    await engine.desk.manager.store.close()


async def test_changes_during_a_build_are_caught_up_a_bounded_number_per_turn_while_the_old_board_serves(
    tmp_path: Path,
) -> None:
    board = await sim_board(seed=3)
    engine = await _engine(tmp_path, board)
    _load(engine, board)
    old_board = engine.pipeline.board
    release = threading.Event()

    async def held_offload(step: Callable[[], Any]) -> Any:
        return await asyncio.to_thread(lambda: (release.wait(10), step())[1])

    engine.offload = held_offload
    rebuild = asyncio.create_task(engine.load_universe(board.series, board.markets, 0))
    await asyncio.sleep(0.01)
    assert engine.pipeline.rebuilding
    tickers = sorted(board.books)
    rng = random.Random(5)
    changed = 0
    for _ in range(5):  # every book changes (and some twice) while the worker builds
        for ticker in tickers:
            book = engine.pipeline.books.get(ticker)
            if book is None or not book.yes_bids:
                continue
            top = book.yes_bids[0]
            moved = Level(top.price, top.count + rng.randint(1, 50))
            engine.apply_book(ticker, replace(book, yes_bids=(moved, *book.yes_bids[1:])))
            changed += 1
    assert engine.pipeline.board is old_board  # the old board serves every change meanwhile
    sizes: list[tuple[int, int]] = []
    real_catch_up = engine.pipeline.catch_up

    def counting(built: Any, limit: int) -> bool:
        journal = engine.pipeline._journal
        before = len(journal) if journal is not None else 0
        done = real_catch_up(built, limit)
        after = len(journal) if journal is not None else 0
        sizes.append((before - after, limit))
        return done

    engine.pipeline.catch_up = counting  # type: ignore[method-assign]
    release.set()
    await rebuild
    assert engine.pipeline.board is not old_board
    assert all(done <= limit == CATCH_UP_PER_TURN for done, limit in sizes)
    assert len(sizes) >= len(tickers) // CATCH_UP_PER_TURN, "the journal must take several loop turns"
    assert engine.pipeline.live == _whole_board(engine.pipeline)
    held = engine.pipeline.books
    stale = [t for t in held if engine.pipeline.board.books.get(t) is not held[t]]
    assert not stale, [(engine.pipeline.board.books.get(t), held[t]) for t in stale[:1]]
    assert changed > len(tickers)
    await engine.desk.manager.store.close()


async def test_incremental_diffs_always_equal_the_whole_boards_signals(tmp_path: Path) -> None:
    board = await sim_board(seed=3)
    engine = await _engine(tmp_path, board, trading_profile="VERY_AGGRESSIVE")
    engine.offload = inline
    _load(engine, board)
    pipeline = engine.pipeline
    assert pipeline.live and pipeline.live == _whole_board(pipeline)
    rng = random.Random(11)
    tickers = sorted(board.books)
    for step in range(400):
        ticker = rng.choice(tickers)
        book = pipeline.books.get(ticker)
        if step % 37 == 0:
            engine.apply_book(ticker, None)  # untrusted: its signals go
        elif book is not None and book.no_bids:  # the best NO bid (the YES ask) moves a cent or two
            top = book.no_bids[0]
            price = min(max(top.price + CENT * rng.choice((-2, -1, 1, 2)), CENT), ONE - CENT)
            rest = tuple(lv for lv in book.no_bids[1:] if lv.price < price)
            engine.apply_book(ticker, Orderbook(ticker, book.yes_bids, (Level(price, top.count), *rest)))
        elif book is None:
            engine.apply_book(ticker, board.books[ticker])
        assert pipeline.live == _whole_board(pipeline), f"step {step} on {ticker}"
    await engine.desk.manager.store.close()


async def test_a_closed_market_stays_closed_over_a_list_that_predates_it_and_not_over_a_newer_one(
    tmp_path: Path,
) -> None:
    board = await sim_board(seed=3)
    engine = await _engine(tmp_path, board, trading_profile="VERY_AGGRESSIVE")
    _load(engine, board)
    pipeline = engine.pipeline
    signal = next(s for s in pipeline.live.values() if not s.tickers)
    market = pipeline.market(signal.ticker)
    assert market is not None
    mark = pipeline.lifecycle_mark()  # a list requested now...
    engine.apply_market(replace(market, status="closed"))
    assert all(s.ticker != signal.ticker for s in pipeline.live.values()), "its signals go at once"
    await engine.load_universe(board.series, board.markets, mark)  # ...arrives after the close
    assert pipeline.market(signal.ticker).status == "closed"  # type: ignore[union-attr]
    assert all(s.ticker != signal.ticker for s in pipeline.live.values())
    await engine.load_universe(board.series, board.markets, pipeline.lifecycle_mark())
    assert pipeline.market(signal.ticker).status == "active"  # type: ignore[union-attr]
    await engine.desk.manager.store.close()


def test_raw_universe_problems_are_skipped_with_a_reason() -> None:
    from engine.runtime.rebuild import parse_universe

    markets, series, problems = parse_universe(RawUniverse([{"ticker": 5}], [{"nope": 1}]))
    assert markets == () and series == {} and len(problems) == 2
    assert problems[0].startswith("discovery: skipped a bad series")
