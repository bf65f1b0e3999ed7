"""Properties of the resolver over the labelled board: order does not matter, and a missing event never
makes a market fall onto another game."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from mapping_labelled import load, score

from engine.bench.mapping import synthetic_board, synthetic_college_board
from engine.mapping.resolver import resolve
from engine.markets.kalshi import KalshiMarket

CASES, EVENTS = load()
MARKETS = [c.market for c in CASES]
BASELINE = resolve(MARKETS, EVENTS)


@settings(max_examples=15, deadline=None)
@given(st.randoms(use_true_random=False))
def test_input_order_does_not_change_any_answer(rng: random.Random) -> None:
    markets, events = MARKETS[:], EVENTS[:]
    rng.shuffle(markets)
    rng.shuffle(events)
    result = resolve(markets, events)
    assert result.matches == BASELINE.matches
    assert {u.ticker for u in result.unmatched} == {u.ticker for u in BASELINE.unmatched}


def test_removing_any_event_never_creates_a_false_match() -> None:
    for missing in EVENTS:
        events = [e for e in EVENTS if e.id != missing.id]
        result = resolve(MARKETS, events)
        orphans = {c.market.ticker for c in CASES if c.expect is not None and c.expect["odds_event_id"] == missing.id}
        wrong = {t: m.odds_event_id for t, m in result.matches.items() if t in orphans}
        assert not wrong, (
            f"without {missing.id} ({missing.away_team} at {missing.home_team}) these fell elsewhere: {wrong}"
        )
        # Every market with a right answer keeps it (traps labelled "no match" are checked on the full board).
        others = [c for c in CASES if c.market.ticker not in orphans and c.expect is not None]
        assert score(others, result).false_matches == []


def test_swapping_home_and_away_in_the_feed_never_swaps_a_yes_side() -> None:
    swapped = [replace(e, home_team=e.away_team, away_team=e.home_team) for e in EVENTS]
    result = resolve(MARKETS, swapped)
    for ticker, match in result.matches.items():
        base = BASELINE.matches.get(ticker)
        assert base is not None, f"{ticker} matched only after the swap"
        assert (match.odds_event_id, match.outcome, match.point) == (base.odds_event_id, base.outcome, base.point)


def test_benchmark_boards_map_every_market_to_its_own_game() -> None:
    for markets, events in (synthetic_board(120), synthetic_college_board(60)):
        result = resolve(markets, events)
        assert len(result.matches) == len(markets), result.unmatched[:3]
        for n, market in enumerate(markets):
            assert result.matches[market.ticker].odds_event_id == events[n // 2].id


_TICKERISH = st.text(alphabet="KXNFLGAMESPREDTOBC0123456789-", min_size=0, max_size=30)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            _TICKERISH, _TICKERISH, st.text(max_size=60), st.text(max_size=80), st.sampled_from(["", "greater", "less"])
        ),
        max_size=8,
    )
)
def test_garbage_markets_never_raise_and_are_all_answered(raw: list[tuple[str, str, str, str, str]]) -> None:
    markets = [
        KalshiMarket(
            ticker=f"{event}-{suffix}",
            event_ticker=event,
            status="active",
            title=title,
            rules_primary=rules,
            strike_type=strike,
        )
        for suffix, event, title, rules, strike in raw
    ]
    result = resolve(markets, EVENTS)
    answered = set(result.matches) | {u.ticker for u in result.unmatched}
    assert answered == {m.ticker for m in markets}
