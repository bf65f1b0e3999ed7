"""The incremental, screened Board must reach exactly the signals of the exact full pass, always."""

from __future__ import annotations

import copy
import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.bench.detection import generate_board
from engine.config.profiles import PROFILES, ProfileName
from engine.detection.board import Board
from engine.detection.detector import DetectionContext, detect
from engine.markets.kalshi import Level, Orderbook
from engine.markets.odds import OddsEvent

PROFILE_NAMES = [n for n in ProfileName if n is not ProfileName.CUSTOM]


def keys(signals: tuple) -> set[tuple[str, str, str, int, str]]:  # type: ignore[type-arg]
    return {(s.kind.value, s.ticker, s.side.value, s.count, str(s.ev)) for s in signals}


def groups_of(kalshi: list) -> list[tuple]:  # type: ignore[type-arg]
    return [tuple(kalshi[i : i + 2]) for i in range(0, len(kalshi), 2)]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    mispriced=st.floats(0.0, 0.6),
    max_age=st.floats(30.0, 400.0),
    profile=st.sampled_from(PROFILE_NAMES),
)
def test_screened_board_equals_exact_pass(seed: int, mispriced: float, max_age: float, profile: ProfileName) -> None:
    kalshi, books, events, mapping, now = generate_board(60, seed, mispriced=mispriced, max_age_s=max_age)
    ctx = DetectionContext(PROFILES[profile], Decimal(5000), 100)
    exact = detect(kalshi, {b.ticker: b for b in books}, events, mapping, ctx, now, groups_of(kalshi))
    board = Board(kalshi, mapping, ctx, groups_of(kalshi))
    board.load(books, events, now)
    assert keys(board.signals()) == keys(exact.signals)
    later = now + timedelta(seconds=max_age / 2)
    board.reevaluate(later)
    exact_later = detect(kalshi, {b.ticker: b for b in books}, events, mapping, ctx, later, groups_of(kalshi))
    assert keys(board.signals()) == keys(exact_later.signals)


def _shake_event(event: OddsEvent, rng: random.Random, now_shift: timedelta) -> OddsEvent:
    books = []
    for bm in event.bookmakers:
        market = bm.markets[0]
        outcomes = tuple(
            replace(o, decimal_odds=o.decimal_odds * Decimal(str(round(rng.uniform(0.85, 1.2), 3))), american=None)
            for o in market.outcomes
        )
        updated = market.last_update + now_shift
        books.append(
            replace(bm, last_update=updated, markets=(replace(market, outcomes=outcomes, last_update=updated),))
        )
    return replace(event, bookmakers=tuple(books))


def _shake_book(book: Orderbook, rng: random.Random) -> Orderbook:
    move = Decimal(rng.choice([-4, -2, 2, 4])) / 100
    no = tuple(Level(min(max(lv.price + move, Decimal("0.01")), Decimal("0.99")), lv.count) for lv in book.no_bids)
    return replace(book, no_bids=no)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_updates_equal_exact_pass(seed: int) -> None:
    rng = random.Random(seed)
    kalshi, books, events, mapping, now = generate_board(80, seed, mispriced=0.2)
    ctx = DetectionContext(PROFILES[ProfileName.AGGRESSIVE], Decimal(10000), 50)
    board = Board(kalshi, mapping, ctx, groups_of(kalshi))
    board.load(books, events, now)
    by_event = {e.id: e for e in events}
    by_book = {b.ticker: b for b in books}
    for _ in range(60):
        draw = rng.random()
        if draw < 0.15:  # a poll that repeats the last quotes, in new objects
            event = copy.deepcopy(rng.choice(list(by_event.values())))
            by_event[event.id] = event
            board.apply_event(event, now)
        elif draw < 0.5:
            event = _shake_event(rng.choice(list(by_event.values())), rng, timedelta(seconds=rng.uniform(0, 30)))
            by_event[event.id] = event
            board.apply_event(event, now)
        else:
            book = _shake_book(by_book[rng.choice(list(by_book))], rng)
            by_book[book.ticker] = book
            board.apply_orderbook(book, now)
        exact = detect(kalshi, by_book, list(by_event.values()), mapping, ctx, now, groups_of(kalshi))
        assert keys(board.signals()) == keys(exact.signals)
        if rng.random() < 0.3:  # a whole-board read after changes written one row at a time
            assert board.result(now) == exact


def test_a_repeated_quote_in_new_objects_keeps_the_cached_exact_results() -> None:
    kalshi, books, events, mapping, now = generate_board(40, 4, mispriced=0.5)
    ctx = DetectionContext(PROFILES[ProfileName.STANDARD], Decimal(10000), 100)
    board = Board(kalshi, mapping, ctx, groups_of(kalshi))
    board.load(books, events, now)
    signals = board.signals()
    assert signals
    versions = board._arrays.version.copy()
    for event in events:
        board.apply_event(copy.deepcopy(event), now)  # equal by value, not the same objects
    assert (board._arrays.version == versions).all(), "nothing the exact rules read has changed"
    assert board.signals() == signals

    event = events[0]
    rows = board._event_rows[event.id]
    board.apply_event(replace(copy.deepcopy(event), sport_key="basketball_nba"), now)  # the tie rule reads it
    assert all(board._arrays.version[i] == versions[i] + 1 for i in rows)
    moved = replace(event, commence_time=event.commence_time + timedelta(minutes=5))
    board.apply_event(moved, now)
    assert all(board._arrays.version[i] == versions[i] + 2 for i in rows)
    book = event.bookmakers[1]
    quote = replace(book.markets[0], outcomes=tuple(replace(o, american=None) for o in book.markets[0].outcomes))
    changed = replace(moved, bookmakers=(event.bookmakers[0], replace(book, markets=(quote,)), *event.bookmakers[2:]))
    board.apply_event(changed, now)  # same odds and time, but no longer quoted in american numbers: a new quote
    assert all(board._arrays.version[i] == versions[i] + 3 for i in rows)
    exact = detect(kalshi, {b.ticker: b for b in books}, [changed, *events[1:]], mapping, ctx, now, groups_of(kalshi))
    assert keys(board.signals()) == keys(exact.signals)


def test_board_explains_a_market() -> None:
    kalshi, books, events, mapping, now = generate_board(10, 5)
    board = Board(kalshi, mapping, DetectionContext(PROFILES[ProfileName.STANDARD], Decimal(10000), 100))
    board.load(books, events, now + timedelta(days=1))  # every game has started by then
    result = board.explain(kalshi[0].ticker, now + timedelta(days=1))
    assert result.skip is not None and "started" in result.skip.reason
    assert board.signals() == ()


def test_market_going_inactive_drops_its_signals() -> None:
    kalshi, books, events, mapping, now = generate_board(100, 9, mispriced=0.5)
    board = Board(kalshi, mapping, DetectionContext(PROFILES[ProfileName.STANDARD], Decimal(10000), 100))
    board.load(books, events, now)
    live = {s.ticker for s in board.signals()}
    assert live
    ticker = sorted(live)[0]
    board.apply_market(replace(next(m for m in kalshi if m.ticker == ticker), status="closed"), now)
    assert ticker not in {s.ticker for s in board.signals()}
