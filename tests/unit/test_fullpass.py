"""The screened full pass (what ``scan`` runs) returns exactly what the exact rules return on every market:
the same signals and the same skip reasons, on boards with stale books, closed, unmapped and bookless
markets, missing events and games already started, and at 8,000 markets."""

from __future__ import annotations

import calendar
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.bench.detection import generate_board
from engine.clock import micros
from engine.config.profiles import PROFILES, Profile, ProfileName
from engine.detection.board import Board
from engine.detection.detector import DetectionContext, detect
from engine.detection.fullpass import detect_screened
from engine.detection.signals import Side, SignalKind
from engine.detection.vig_arrays import remove_vig_rows
from engine.mapping.types import MappingResult, MarketKind, MarketMatch
from engine.markets.kalshi import KalshiMarket, Level, Orderbook
from engine.markets.odds import Bookmaker, BookMarket, OddsEvent, Outcome
from engine.pricing.vig import VigMethod, remove_vig
from tests.unit.mixed_board import NOW, mixed_board

PROFILE_NAMES = [n for n in ProfileName if n is not ProfileName.CUSTOM]


def groups_of(kalshi: list) -> list[tuple]:  # type: ignore[type-arg]
    return [tuple(kalshi[i : i + 2]) for i in range(0, len(kalshi), 2)]


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    mispriced=st.floats(0.0, 0.6),
    max_age=st.floats(30.0, 400.0),
    profile=st.sampled_from(PROFILE_NAMES),
    later_s=st.sampled_from([0.0, 45.0, 200.0, 6 * 3600.0]),
    damage=st.floats(0.0, 0.3),
)
def test_screened_pass_equals_exact_rules(
    seed: int, mispriced: float, max_age: float, profile: ProfileName, later_s: float, damage: float
) -> None:
    rng = random.Random(seed)
    kalshi, books, events, mapping, now = generate_board(80, seed, mispriced=mispriced, max_age_s=max_age)
    kalshi = [replace(m, status="closed") if rng.random() < damage else m for m in kalshi]
    matches = {t: m for t, m in mapping.matches.items() if rng.random() >= damage}
    book_map = {b.ticker: b for b in books if rng.random() >= damage}
    odd = next(iter(book_map))  # a level outside 0..1 that only the exact rules can see
    book_map[odd] = replace(book_map[odd], yes_bids=(*book_map[odd].yes_bids, Level(Decimal(0), Decimal(5))))
    events = [e for e in events if rng.random() >= damage / 2]
    ctx = DetectionContext(PROFILES[profile], Decimal(5000), 100)
    at = now + timedelta(seconds=later_s)
    groups = groups_of(kalshi)
    exact = detect(kalshi, book_map, events, MappingResult(matches), ctx, at, groups)
    screened = detect_screened(kalshi, book_map, events, MappingResult(matches), ctx, at, groups)
    assert screened.signals == exact.signals
    assert screened.skipped == exact.skipped


def test_screened_pass_equals_exact_rules_at_8000_markets() -> None:
    kalshi, books, events, mapping, now = generate_board(8000, 3, mispriced=0.05, max_age_s=400.0)
    ctx = DetectionContext(PROFILES[ProfileName.AGGRESSIVE], Decimal(10000), 100)
    book_map = {b.ticker: b for b in books}
    at = now + timedelta(seconds=30)
    exact = detect(kalshi, book_map, events, mapping, ctx, at, groups_of(kalshi))
    screened = detect_screened(kalshi, book_map, events, mapping, ctx, at, groups_of(kalshi))
    assert len(exact.signals) > 100 and exact.skipped  # stale books exist at this time
    assert screened == exact


def test_an_empty_orderbook_side_and_a_missing_book_are_skipped_the_same_way() -> None:
    kalshi, books, events, mapping, now = generate_board(6, 1, mispriced=1.0)
    ctx = DetectionContext(PROFILES[ProfileName.VERY_AGGRESSIVE], Decimal(5000), 100)
    book_map = {b.ticker: b for b in books[1:]}
    book_map[books[2].ticker] = Orderbook(books[2].ticker)
    exact = detect(kalshi, book_map, events, mapping, ctx, now)
    assert any("no orderbook" in s.reason for s in exact.skipped)
    assert detect_screened(kalshi, book_map, events, mapping, ctx, now) == exact


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2105, 12, 31)))
def test_micros_is_the_exact_microsecond_count(moment: datetime) -> None:
    aware = moment.replace(tzinfo=UTC)
    assert micros(aware) == calendar.timegm(aware.utctimetuple()) * 1_000_000 + aware.microsecond
    assert micros(aware.astimezone(timezone(timedelta(hours=-5)))) == micros(aware)  # the instant, not the wall


def test_micros_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="naive timestamp"):
        micros(datetime(2026, 12, 1, 12))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.lists(st.floats(-0.2, 1.2), min_size=3, max_size=3), min_size=1, max_size=40),
    st.sampled_from(list(VigMethod)),
    st.integers(2, 3),
)
def test_vectorised_vig_removal_prices_what_the_scalar_solver_prices(
    rows: list[list[float]], method: VigMethod, width: int
) -> None:
    raw = np.array([r[:width] for r in rows])
    fair, ok = remove_vig_rows(raw, method)
    for i, row in enumerate(raw.tolist()):
        try:
            expected = remove_vig(row, method)
        except Exception:
            assert not ok[i]
            continue
        assert ok[i]
        assert np.allclose(fair[i], expected, rtol=0, atol=1e-11)


MIXED_PROFILES = [
    *(PROFILES[n] for n in PROFILE_NAMES),
    *(
        replace(PROFILES[ProfileName.AGGRESSIVE], books=books, book_consensus=2, vig_method=method)
        for books, method in (
            (("pinnacle", "draftkings", "draftkings", "fanduel"), VigMethod.MULTIPLICATIVE),
            (("fanduel", "betmgm", "pinnacle"), VigMethod.ADDITIVE),
            (("williamhill_us", "draftkings", "betmgm"), VigMethod.SHIN),
        )
    ),
]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    profile=st.sampled_from(MIXED_PROFILES),
    later_s=st.sampled_from([0.0, 40.0, 3 * 3600.0]),
)
@example(seed=106, profile=MIXED_PROFILES[4], later_s=0.0)  # a book listed twice: see the test below
def test_screened_pass_equals_exact_rules_on_every_kind_of_line(seed: int, profile: Profile, later_s: float) -> None:
    """Three-way winners, spreads and totals, renamed and duplicated books and markets, odd outcome counts."""
    kalshi, books, events, mapping, groups = mixed_board(40, seed, float(profile.max_quote_age_s))
    ctx = DetectionContext(profile, Decimal(5000), 100)
    at = NOW + timedelta(seconds=later_s)
    exact = detect(kalshi, books, events, mapping, ctx, at, groups)
    screened = detect_screened(kalshi, books, events, mapping, ctx, at, groups)
    assert screened.signals == exact.signals
    assert screened.skipped == exact.skipped


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), profile=st.sampled_from(MIXED_PROFILES))
def test_cold_build_writes_what_one_event_at_a_time_writes(seed: int, profile: Profile) -> None:
    """The vectorised cold build and the per-cell path of a quote change give every cell the same view."""
    kalshi, books, events, mapping, groups = mixed_board(30, seed, float(profile.max_quote_age_s))
    ctx = DetectionContext(profile, Decimal(5000), 100)
    cold = Board(kalshi, mapping, ctx, groups)
    cold.load(books.values(), events, NOW)
    warm = Board(kalshi, mapping, ctx, groups)
    warm.load(books.values(), [], NOW)
    for event in events:
        warm.apply_event(event, NOW)
    a, b = cold._arrays, warm._arrays
    assert np.array_equal(a.updated_us, b.updated_us)
    assert np.array_equal(a.commence_us, b.commence_us)
    assert a.commence_l == b.commence_l
    assert np.allclose(a.fair, b.fair, rtol=0, atol=1e-11, equal_nan=True)
    assert np.array_equal(a.hedge_yes, b.hedge_yes)
    assert np.array_equal(a.hedge_no, b.hedge_no)
    assert [x is y for x, y in zip(cold._sources.objects, warm._sources.objects, strict=True)] == [True] * len(
        cold._sources.objects
    )
    assert any(np.isfinite(a.fair[cold._arrays.index[m.ticker]]).any() for m in kalshi if "-S" in m.ticker)


def test_a_book_the_profile_lists_twice_votes_once_in_the_screens_median() -> None:
    """The exact rules take the consensus median over ``{book: fair}``, so draftkings listed twice votes
    once: the median of 0.607, 0.500 and 0.609 is 0.607 and YES at $0.52 clears the $0.03 edge. Had the
    screen let the repeated column vote (median 0.554 of four), it would drop the market before the exact
    rules saw it. No arbitrage is on offer, so only the edge can carry the market through the screen."""
    profile = replace(
        PROFILES[ProfileName.AGGRESSIVE],
        books=("pinnacle", "draftkings", "draftkings", "fanduel"),
        book_consensus=2,
        vig_method=VigMethod.MULTIPLICATIVE,
    )
    quoted = NOW - timedelta(seconds=10)

    def book(key: str, home: str, away: str) -> Bookmaker:
        outcomes = (Outcome("Home", Decimal(home)), Outcome("Away", Decimal(away)))
        return Bookmaker(key, key, quoted, (BookMarket("h2h", quoted, outcomes),))

    books = (book("pinnacle", "1.36", "2.10"), book("draftkings", "1.65", "1.65"), book("fanduel", "1.35", "2.10"))
    event = OddsEvent("ev", "americanfootball_nfl", NOW + timedelta(hours=2), "Home", "Away", books)
    market = KalshiMarket("KXGAME-X-HOME", "KXGAME-X", "active")
    mapping = MappingResult({market.ticker: MarketMatch(market.ticker, "KXGAME-X", "ev", MarketKind.WINNER, "Home")})
    orderbooks = {market.ticker: Orderbook(market.ticker, (Level(Decimal("0.45"), Decimal(100)),),
                                           (Level(Decimal("0.48"), Decimal(100)),))}  # fmt: skip
    ctx = DetectionContext(profile, Decimal(5000), 100)

    exact = detect([market], orderbooks, [event], mapping, ctx, NOW)
    assert [(s.kind, s.side) for s in exact.signals] == [(SignalKind.EDGE, Side.YES)]
    assert exact.signals[0].books_agree == 2
    assert detect_screened([market], orderbooks, [event], mapping, ctx, NOW) == exact
    live = Board([market], mapping, ctx)  # a quote change screens its rows one at a time, in plain floats
    live.load(orderbooks.values(), [], NOW)
    assert live.apply_event(event, NOW) == [market.ticker]
    assert live.signals() == exact.signals
