"""Detection benchmark on a generated board (2,000 markets x 4 books by default)."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engine.config.profiles import PROFILES, ProfileName
from engine.detection.board import Board
from engine.detection.detector import DetectionContext, detect
from engine.mapping.types import MappingResult, MarketKind, MarketMatch
from engine.markets.kalshi import KalshiMarket, Level, Orderbook
from engine.markets.odds import Bookmaker, BookMarket, OddsEvent, Outcome
from engine.pricing.odds import american_to_decimal

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


def _timed(fn: object, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - start)
    return out


def bench_detection(markets: int = 2000, repeat: int = 20) -> dict[str, float]:
    kalshi, books, events, mapping, now = generate_board(markets)
    ctx = DetectionContext(PROFILES[ProfileName.STANDARD], Decimal(10000), 100)
    book_map = {b.ticker: b for b in books}
    groups = [tuple(kalshi[i : i + 2]) for i in range(0, len(kalshi), 2)]
    exact = detect(kalshi, book_map, events, mapping, ctx, now, groups).signals
    full_exact = _timed(lambda: detect(kalshi, book_map, events, mapping, ctx, now, groups), max(1, repeat // 5))

    board = Board(kalshi, mapping, ctx, groups)
    load = _timed(lambda: board.load(books, events, now), 1)
    screened = board.signals()
    if {s.key for s in screened} != {s.key for s in exact}:
        raise AssertionError("the screened board and the exact pass disagree")
    full = _timed(lambda: board.reevaluate(now), repeat)
    rng = random.Random(11)
    changes = []
    for _ in range(500):
        event = rng.choice(events)
        bm = event.bookmakers[0]
        market = bm.markets[0]
        shifted = tuple(replace(o, american=None) for o in market.outcomes)
        new_market = replace(market, last_update=now, outcomes=shifted)
        new_books = (replace(bm, markets=(new_market,)), *event.bookmakers[1:])
        changes.append(replace(event, bookmakers=new_books))
    incremental = []
    for event in changes:
        start = time.perf_counter()
        board.apply_event(event, now)
        incremental.append(time.perf_counter() - start)
    incremental.sort()
    return {
        "markets": float(len(kalshi)),
        "books_per_event": float(len(BOOKS)),
        "signals": float(len(exact)),
        "full_detection_ms_median": statistics.median(full) * 1e3,
        "full_detection_ms_min": min(full) * 1e3,
        "full_exact_pass_every_market_ms_median": statistics.median(full_exact) * 1e3,
        "board_load_ms": load[0] * 1e3,
        "incremental_quote_change_us_median": statistics.median(incremental) * 1e6,
        "incremental_quote_change_us_p99": incremental[int(len(incremental) * 0.99) - 1] * 1e6,
    }
