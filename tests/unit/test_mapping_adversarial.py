"""Red-team cases for the mapping: realistic boards the labelled set does not cover.

Each case expects the correct match or no match with a reason; never a wrong game, a swapped YES side or a
line priced on the wrong side.
"""

from __future__ import annotations

from dataclasses import replace

from test_mapping_resolver import ev, mk

from engine.mapping.resolver import resolve, winner_groups
from engine.mapping.types import MappingResult

NFL = "americanfootball_nfl"
NBA = "basketball_nba"
NHL = "icehockey_nhl"
MLB = "baseball_mlb"


def reason(result: MappingResult, ticker: str) -> str:
    return next(u.reason for u in result.unmatched if u.ticker == ticker)


def test_market_whose_ticker_is_not_of_its_event_is_refused() -> None:
    # The market says Oct 12; its event_ticker says Oct 5 (the game on the board): never priced on Oct 5.
    stray = replace(mk("KXNFLGAME-26OCT12ATLNO-ATL"), event_ticker="KXNFLGAME-26OCT05ATLNO")
    events = [ev("e1", NFL, "2026-10-06T00:15:00+00:00", "New Orleans Saints", "Atlanta Falcons")]
    result = resolve([stray], events)
    assert not result.matches
    assert "event_ticker" in reason(result, stray.ticker)
    assert winner_groups([stray, mk("KXNFLGAME-26OCT05ATLNO-NO")]) == []


def test_series_game_of_the_evening_before_never_stands_in_for_a_missing_game() -> None:
    # Lakers/Clippers play on consecutive nights; only the first night (22:30 ET) is on the Odds API board.
    first_night = [ev("d1", NBA, "2026-11-11T03:30:00+00:00", "Los Angeles Clippers", "Los Angeles Lakers")]
    second = [mk("KXNBAGAME-26NOV11LALLAC-LAL"), mk("KXNBAGAME-26NOV11LALLAC-LAC")]
    result = resolve(second, first_night)
    assert not result.matches
    assert "no event on 2026-11-11" in reason(result, second[0].ticker)
    # Kalshi's occurrence_datetime for the second night (start + 3 h) rules the first night out as well.
    timed = mk("KXNHLGAME-26NOV11NYRNYI-NYR", occurrence="2026-11-12T03:00:00+00:00")
    hockey = [ev("d1", NHL, "2026-11-11T00:00:00+00:00", "New York Islanders", "New York Rangers")]
    assert not resolve([timed], hockey).matches


def test_game_postponed_to_the_next_day_keeps_its_original_ticker_date() -> None:
    rules = (
        "If Boston wins the Boston vs New York R NHL game originally scheduled for Nov 8, 2026, then the market "
        "resolves to Yes."
    )
    moved = [ev("e", NHL, "2026-11-10T00:00:00+00:00", "New York Rangers", "Boston Bruins")]
    # Without a moved occurrence_datetime the next-day event is not this game as far as the resolver can tell.
    stale = mk("KXNHLGAME-26NOV08BOSNYR-BOS", rules=rules, occurrence="2026-11-09T03:00:00+00:00")
    result = resolve([stale], moved)
    assert not result.matches and "no event on 2026-11-08" in reason(result, stale.ticker)
    # Kalshi moved occurrence_datetime with the game: the same game, matched with reduced confidence.
    kept = mk("KXNHLGAME-26NOV08BOSNYR-BOS", rules=rules, occurrence="2026-11-10T03:00:00+00:00")
    match = resolve([kept], moved).matches[kept.ticker]
    assert (match.odds_event_id, match.outcome) == ("e", "Boston Bruins") and match.confidence < 0.9
    # An MLB rainout made up in a doubleheader the next day: the ticker's 19:10 start matches neither game.
    mlb = mk("KXMLBGAME-26JUL101910NYYBOS-NYY")
    makeup = [
        ev("a", MLB, "2026-07-11T17:05:00+00:00", "Boston Red Sox", "New York Yankees"),
        ev("b", MLB, "2026-07-11T23:10:00+00:00", "Boston Red Sox", "New York Yankees"),
    ]
    assert not resolve([mlb], makeup).matches
