"""Detection benchmark on generated boards (2,000 markets x 4 books by default): cold full pass, the
screened and the exact full pass, a warm re-screen and one quote change, each as median, p99 and minimum."""

from __future__ import annotations

import copy
import itertools
import random
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.bench.stats import MIN_REPEAT, environment, summary, timed
from engine.config.profiles import PROFILES, ProfileName
from engine.detection.board import Board
from engine.detection.detector import DetectionContext, detect
from engine.detection.fullpass import detect_screened
from engine.mapping.types import MappingResult, MarketKind, MarketMatch
from engine.markets.kalshi import KalshiMarket, Level, Orderbook
from engine.markets.odds import Bookmaker, BookMarket, OddsEvent, Outcome
from engine.pricing.odds import american_to_decimal
from engine.runtime.heap import settle

BOOKS = ("draftkings", "fanduel", "betmgm", "williamhill_us")


def _american(p: float) -> int:
    """Fair probability -> american odds with about 2.3% vig per side."""
    q = min(0.97, p + 0.023)
    return -round(100 * q / (1 - q)) if q >= 0.5 else round(100 * (1 - q) / q)


def _outcome(name: str, american: int) -> Outcome:
    return Outcome(name, american_to_decimal(american), None, Decimal(american))


def _event(i: int, p_home: float, now: datetime, rng: random.Random, max_age_s: float) -> OddsEvent:
    home, away = f"Home {i}", f"Away {i}"
    books = []
    for key in BOOKS:
        jitter = rng.uniform(-0.01, 0.01)
        updated = now - timedelta(seconds=rng.uniform(1, max_age_s))
        outcomes = (_outcome(away, _american(1 - p_home - jitter)), _outcome(home, _american(p_home + jitter)))
        books.append(Bookmaker(key, key, updated, (BookMarket("h2h", updated, outcomes),)))
    return OddsEvent(f"ev{i}", "americanfootball_nfl", now + timedelta(hours=5), home, away, tuple(books))


def _book(ticker: str, mid: Decimal) -> Orderbook:
    """YES bid a cent under ``mid``, YES ask a cent over it, three levels deep on each side."""
    cent = Decimal("0.01")
    yes = tuple(Level(mid - cent * (k + 1), Decimal(50 * (k + 1))) for k in range(3))
    no = tuple(Level(Decimal(1) - mid - cent * (k + 1), Decimal(40 * (k + 1))) for k in range(3))
    return Orderbook(ticker, tuple(lv for lv in yes if lv.price > 0), tuple(lv for lv in no if lv.price > 0))


def _mids(p_home: float, rng: random.Random, mispriced: float) -> tuple[Decimal, Decimal]:
    """Kalshi mids of (away, home): near fair and consistent with each other; a ``mispriced`` share of
    games has one market 6-9 cents too cheap."""
    home = min(max(round(p_home + rng.uniform(-0.015, 0.015), 2), 0.04), 0.96)
    away = round(1.0 - home, 2)
    if rng.random() < mispriced:
        home = max(0.04, round(home - rng.uniform(0.06, 0.09), 2))
    return Decimal(str(away)), Decimal(str(home))


def generate_board(
    markets: int = 2000,
    seed: int = 7,
    now: datetime | None = None,
    *,
    mispriced: float = 0.01,
    max_age_s: float = 90.0,
) -> tuple[list[KalshiMarket], list[Orderbook], list[OddsEvent], MappingResult, datetime]:
    rng = random.Random(seed)
    now = now or datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    kalshi: list[KalshiMarket] = []
    books: list[Orderbook] = []
    events: list[OddsEvent] = []
    matches: dict[str, MarketMatch] = {}
    for i in range(markets // 2):
        p_home = rng.uniform(0.2, 0.8)
        event = _event(i, p_home, now, rng, max_age_s)
        events.append(event)
        event_ticker = f"KXNFLGAME-26NOV26A{i:04d}H{i:04d}"
        mid_away, mid_home = _mids(p_home, rng, mispriced)
        for code, team, mid in (("A", event.away_team, mid_away), ("H", event.home_team, mid_home)):
            ticker = f"{event_ticker}-{code}{i:04d}"
            kalshi.append(KalshiMarket(ticker, event_ticker, "active"))
            books.append(_book(ticker, mid))
            matches[ticker] = MarketMatch(ticker, event_ticker, event.id, MarketKind.WINNER, team)
    return kalshi, books, events, MappingResult(matches), now


def _quote_changes(events: list[OddsEvent], now: datetime, count: int, seed: int) -> list[OddsEvent]:
    """``count`` single-book quote changes: one book's winner market of a random game, re-stamped at ``now``."""
    rng = random.Random(seed)
    changes = []
    for _ in range(count):
        event = rng.choice(events)
        k = rng.randrange(len(event.bookmakers))
        bm = event.bookmakers[k]
        market = bm.markets[0]
        shifted = tuple(replace(o, american=None) for o in market.outcomes)
        new_books = list(event.bookmakers)
        new_books[k] = replace(bm, markets=(replace(market, last_update=now, outcomes=shifted),))
        changes.append(replace(event, bookmakers=tuple(new_books)))
    return changes


def bench_board(markets: int, repeat: int) -> dict[str, Any]:
    """Every detection figure for one board of ``markets`` markets x 4 books (see :func:`bench_detection`)."""
    kalshi, books, events, mapping, now = generate_board(markets)
    ctx = DetectionContext(PROFILES[ProfileName.STANDARD], Decimal(10000), 100)
    book_map = {b.ticker: b for b in books}
    groups = [tuple(kalshi[i : i + 2]) for i in range(0, len(kalshi), 2)]
    exact = detect(kalshi, book_map, events, mapping, ctx, now, groups)
    screened = detect_screened(kalshi, book_map, events, mapping, ctx, now, groups)
    if screened != exact:
        raise AssertionError("the screened full pass and the exact rules disagree")
    settle()  # as the engine does once a board is installed: the inputs are long-lived

    def cold() -> Board:
        board = Board(kalshi, mapping, ctx, groups)
        board.load(books, events, now)
        return board

    fresh: list[Board] = []

    def new_board() -> None:
        fresh[:] = [Board(kalshi, mapping, ctx, groups)]

    out: dict[str, Any] = {
        "markets": len(kalshi),
        "books_per_event": len(BOOKS),
        "signals": len(exact.signals),
        "cold_full_pass_ms": timed(cold, repeat),
        "cold_full_pass_gc_off_ms": timed(cold, repeat, collector=False),
        "board_load_ms": timed(
            lambda: fresh[-1].load(books, events, now),
            repeat,
            setup=new_board,
        ),
        "scan_detection_ms": timed(
            lambda: detect_screened(kalshi, book_map, events, mapping, ctx, now, groups), repeat
        ),
        "exact_rules_every_market_ms": timed(
            lambda: detect(kalshi, book_map, events, mapping, ctx, now, groups), max(MIN_REPEAT, repeat // 4)
        ),
    }
    fresh.clear()
    board = cold()
    if board.signals() != exact.signals:
        raise AssertionError("the board and the exact rules disagree")
    out["warm_rescreen_ms"] = timed(lambda: board.reevaluate(now), repeat * 4)
    changes = _quote_changes(events, now, 2000, seed=11)
    for event in changes[:100]:  # warm-up
        board.apply_event(event, now)
    samples = []
    for event in changes[100:]:
        start = time.perf_counter()
        board.apply_event(event, now)
        samples.append((time.perf_counter() - start) * 1e6)
    out["quote_change_us"] = summary(samples, 2)
    latest = [board.events[event.id] for event in events[:1000]]  # as the quote changes left them
    repeats = [copy.deepcopy(event) for event in latest]  # the same quotes in new objects, as a poll brings them
    samples = []
    for event in repeats:
        start = time.perf_counter()
        board.apply_event(event, now)
        samples.append((time.perf_counter() - start) * 1e6)
    out["quote_repeat_us"] = summary(samples, 2)
    return out


def bench_detection(markets: Sequence[int] = (2000,), repeat: int = MIN_REPEAT) -> dict[str, Any]:
    """Detection timings on generated boards of each size in ``markets`` (N Kalshi winner markets, two per
    game, 4 sportsbooks per game, 1% of games mispriced), figures in milliseconds unless named ``_us``. Each
    board's inputs are frozen out of the garbage collector's walk before timing, as the engine does once a
    board is installed (:mod:`engine.runtime.heap`).

    ``cold_full_pass_ms``: a new ``Board`` built and loaded from odds and books (``_gc_off_``: the same with
    the garbage collector off while timed); ``board_load_ms``: ``Board.load`` alone; ``scan_detection_ms``:
    :func:`engine.detection.fullpass.detect_screened`, what ``scan`` runs; ``exact_rules_every_market_ms``:
    :func:`engine.detection.detector.detect`, the exact rules on every market (the reference both are held
    to, checked here before timing); ``warm_rescreen_ms``: ``Board.reevaluate`` on a loaded board;
    ``quote_change_us``: ``Board.apply_event`` for one book's new quote, 1,900 changes after 100 warm-up;
    ``quote_repeat_us``: the same for a poll that repeats an event's quotes in new objects (up to 1,000 events).
    ``growth`` divides each median by the previous board's.
    """
    boards = [bench_board(n, repeat) for n in markets]
    growth: dict[str, dict[str, float]] = {}
    for prev, cur in itertools.pairwise(boards):
        step = f"{prev['markets']}->{cur['markets']}"
        for name, figure in cur.items():
            if isinstance(figure, dict) and figure.get("median"):
                base = prev[name]["median"]
                growth.setdefault(name, {})[step] = round(figure["median"] / base, 2) if base else 0.0
    return {"environment": environment(), "boards": boards, "growth": growth}
