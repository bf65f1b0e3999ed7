"""Resolver behaviour on hand-built adversarial boards: every trap must end unmatched or correctly matched."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.mapping.overrides import ManualPair, Overrides
from engine.mapping.resolver import resolve, winner_groups
from engine.mapping.types import MarketKind
from engine.markets.kalshi import KalshiMarket
from engine.markets.odds import OddsEvent


def mk(
    ticker: str,
    *,
    title: str = "",
    rules: str = "",
    yes: str = "",
    no: str | None = None,
    strike_type: str = "",
    floor: str | None = None,
    cap: str | None = None,
    occurrence: str | None = None,
) -> KalshiMarket:
    return KalshiMarket(
        ticker=ticker,
        event_ticker=ticker.rsplit("-", 1)[0],
        status="active",
        title=title,
        yes_sub_title=yes,
        no_sub_title=yes if no is None else no,
        rules_primary=rules,
        strike_type=strike_type,
        floor_strike=None if floor is None else Decimal(floor),
        cap_strike=None if cap is None else Decimal(cap),
        occurrence_datetime=None if occurrence is None else datetime.fromisoformat(occurrence),
    )


def ev(event_id: str, sport: str, commence: str, home: str, away: str) -> OddsEvent:
    return OddsEvent(event_id, sport, datetime.fromisoformat(commence), home, away)


NFL = "americanfootball_nfl"
MLB = "baseball_mlb"


def test_winner_markets_map_to_the_team_the_suffix_names() -> None:
    markets = [mk("KXNFLGAME-26OCT05ATLNO-ATL"), mk("KXNFLGAME-26OCT05ATLNO-NO")]
    events = [ev("e1", NFL, "2026-10-06T00:15:00+00:00", "New Orleans Saints", "Atlanta Falcons")]
    result = resolve(markets, events)
    assert result.matches["KXNFLGAME-26OCT05ATLNO-ATL"].outcome == "Atlanta Falcons"
    assert result.matches["KXNFLGAME-26OCT05ATLNO-NO"].outcome == "New Orleans Saints"
    match = result.matches["KXNFLGAME-26OCT05ATLNO-NO"]
    assert match.market_key is MarketKind.WINNER and match.point is None and match.odds_event_id == "e1"
    assert {e.signal for e in match.evidence} >= {"ticker_codes", "date", "team_table"}


def test_swapped_home_away_keeps_each_team_on_its_own_outcome() -> None:
    markets = [mk("KXNFLGAME-26OCT11JACPHI-JAC"), mk("KXNFLGAME-26OCT11JACPHI-PHI")]
    events = [ev("lon", NFL, "2026-10-11T13:30:00+00:00", "Jacksonville Jaguars", "Philadelphia Eagles")]
    result = resolve(markets, events)
    jac = result.matches["KXNFLGAME-26OCT11JACPHI-JAC"]
    assert jac.outcome == "Jacksonville Jaguars"
    assert result.matches["KXNFLGAME-26OCT11JACPHI-PHI"].outcome == "Philadelphia Eagles"
    assert jac.confidence < 1.0
    assert any(e.signal == "home_away" and e.score < 1 for e in jac.evidence)


def test_yes_team_name_in_no_sub_title_is_ignored() -> None:
    market = mk("KXNFLGAME-26SEP13DALNYG-DAL", yes="New York G", no="Dallas")
    events = [ev("e", NFL, "2026-09-13T20:25:00+00:00", "New York Giants", "Dallas Cowboys")]
    assert resolve([market], events).matches[market.ticker].outcome == "Dallas Cowboys"


def test_rules_text_naming_the_other_team_blocks_the_match() -> None:
    rules = (
        "If Pittsburgh wins the Cincinnati at Pittsburgh professional football game originally scheduled for "
        "Nov 8, 2026, then the market resolves to Yes."
    )
    market = mk("KXNFLGAME-26NOV08CINPIT-CIN", rules=rules)
    events = [ev("e", NFL, "2026-11-08T18:00:00+00:00", "Pittsburgh Steelers", "Cincinnati Bengals")]
    result = resolve([market], events)
    assert market.ticker not in result.matches
    assert "PIT" in result.unmatched[0].reason


def test_rules_date_contradicting_the_ticker_blocks_the_match() -> None:
    rules = "If Cincinnati wins the Cincinnati at Pittsburgh professional football game originally scheduled for "
    rules += "Nov 9, 2026, then the market resolves to Yes."
    market = mk("KXNFLGAME-26NOV08CINPIT-CIN", rules=rules)
    events = [ev("e", NFL, "2026-11-08T18:00:00+00:00", "Pittsburgh Steelers", "Cincinnati Bengals")]
    result = resolve([market], events)
    assert not result.matches and "date" in result.unmatched[0].reason


def test_same_teams_on_consecutive_days_pick_the_ticker_date() -> None:
    events = [
        ev("jul10", MLB, "2026-07-10T23:10:00+00:00", "Boston Red Sox", "New York Yankees"),
        ev("jul11", MLB, "2026-07-11T20:10:00+00:00", "Boston Red Sox", "New York Yankees"),
    ]
    m10, m11 = mk("KXMLBGAME-26JUL101910NYYBOS-NYY"), mk("KXMLBGAME-26JUL111610NYYBOS-BOS")
    result = resolve([m10, m11], events)
    assert result.matches[m10.ticker].odds_event_id == "jul10"
    assert result.matches[m11.ticker].odds_event_id == "jul11"
    late = mk("KXMLBGAME-26JUL121335NYYBOS-NYY", occurrence="2026-07-12T20:35:00+00:00")
    result = resolve([late], events)
    assert not result.matches, "the previous afternoon's game must never stand in for a missing game"


def test_plus_minus_one_day_only_near_midnight() -> None:
    events = [ev("late", "basketball_nba", "2026-11-06T05:30:00+00:00", "Phoenix Suns", "Golden State Warriors")]
    # The tip is 00:30 ET on Nov 6; a ticker dated Nov 5 (the local date) is one day off but near midnight.
    exact = resolve([mk("KXNBAGAME-26NOV06GSWPHX-GSW")], events).matches["KXNBAGAME-26NOV06GSWPHX-GSW"]
    near = resolve([mk("KXNBAGAME-26NOV05GSWPHX-GSW")], events).matches["KXNBAGAME-26NOV05GSWPHX-GSW"]
    assert near.odds_event_id == exact.odds_event_id == "late"
    assert near.confidence < exact.confidence
    far_events = [ev("noon", "basketball_nba", "2026-11-05T17:00:00+00:00", "Phoenix Suns", "Golden State Warriors")]
    assert not resolve([mk("KXNBAGAME-26NOV06GSWPHX-GSW")], far_events).matches
    # The evening before the ticker date is where the previous game of a series sits: with nothing but the
    # date it is refused; occurrence_datetime (start + 3 h) can vouch for it.
    eve = [ev("eve", "basketball_nba", "2026-11-06T04:30:00+00:00", "Phoenix Suns", "Golden State Warriors")]
    assert not resolve([mk("KXNBAGAME-26NOV06GSWPHX-GSW")], eve).matches
    vouched = mk("KXNBAGAME-26NOV06GSWPHX-GSW", occurrence="2026-11-06T07:30:00+00:00")
    assert resolve([vouched], eve).matches[vouched.ticker].odds_event_id == "eve"


def test_title_that_fuzzy_matches_another_game_does_not_match_it() -> None:
    rules = (
        "If Los Angeles C wins the LA at Golden State professional basketball game originally scheduled for "
        "Dec 1, 2026, then the market resolves to Yes."
    )
    market = mk("KXNBAGAME-26DEC01LACGSW-LAC", title="LA at Golden State Winner?", rules=rules)
    events = [
        ev("lakers", "basketball_nba", "2026-12-02T03:30:00+00:00", "Golden State Warriors", "Los Angeles Lakers")
    ]
    result = resolve([market], events)
    assert not result.matches
    assert "Los Angeles C" in result.unmatched[0].reason


def test_doubleheaders() -> None:
    events = [
        ev("g1", MLB, "2026-09-04T18:10:00+00:00", "Cleveland Guardians", "Detroit Tigers"),
        ev("g2", MLB, "2026-09-04T23:15:00+00:00", "Cleveland Guardians", "Detroit Tigers"),
    ]
    g1, g2 = mk("KXMLBGAME-26SEP041410DETCLEG1-DET"), mk("KXMLBGAME-26SEP041915DETCLEG2-DET")
    bare = mk("KXMLBGAME-26SEP04DETCLE-DET")
    result = resolve([g1, g2, bare], events)
    assert result.matches[g1.ticker].odds_event_id == "g1"
    assert result.matches[g2.ticker].odds_event_id == "g2"
    assert bare.ticker not in result.matches
    assert "doubleheader" in next(u.reason for u in result.unmatched if u.ticker == bare.ticker)
    old = mk("KXMLBGAME-26SEP04DETCLE2-DET")
    assert resolve([old], events).matches[old.ticker].odds_event_id == "g2"
    # Game 1 left the feed: its markets must not fall onto game 2.
    assert not resolve([g1], events[1:]).matches
    assert not resolve([mk("KXMLBGAME-26SEP04DETCLE1-DET")], events[1:]).matches
    timed = mk("KXMLBGAME-26SEP04DETCLE1-DET", occurrence="2026-09-04T21:10:00+00:00")
    assert not resolve([timed], events[1:]).matches
    assert resolve([timed], events[:1]).matches[timed.ticker].odds_event_id == "g1"
    # No start time, no game number, but occurrence_datetime says early afternoon: not the evening game.
    plain = mk("KXMLBGAME-26SEP04DETCLE-DET", occurrence="2026-09-04T21:10:00+00:00")
    assert not resolve([plain], events[1:]).matches
    assert resolve([plain], events[:1]).matches[plain.ticker].odds_event_id == "g1"


def test_relocated_and_renamed_teams() -> None:
    rams = mk("KXNFLGAME-25DEC18LASEA-LA")
    events = [ev("r", NFL, "2025-12-19T01:15:00+00:00", "Seattle Seahawks", "Los Angeles Rams")]
    assert resolve([rams], events).matches[rams.ticker].outcome == "Los Angeles Rams"
    old = [ev("o", NFL, "2019-12-08T21:05:00+00:00", "Oakland Raiders", "Tennessee Titans")]
    raiders = mk("KXNFLGAME-19DEC08TENLV-LV")
    assert resolve([raiders], old).matches[raiders.ticker].outcome == "Oakland Raiders"
    utah = mk("KXNHLGAME-25JAN13UTAMTL-UTA")
    hockey = [ev("u", "icehockey_nhl", "2025-01-14T00:00:00+00:00", "Montréal Canadiens", "Utah Hockey Club")]
    assert resolve([utah], hockey).matches[utah.ticker].outcome == "Utah Hockey Club"


def test_spread_line_comes_from_floor_strike_not_the_suffix() -> None:
    events = [
        ev("nfl", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans"),
        ev("mls", "soccer_usa_mls", "2026-06-21T01:30:00+00:00", "San Jose Earthquakes", "Real Salt Lake"),
    ]
    hou = mk(
        "KXNFLSPREAD-26SEP27HOUIND-HOU3", title="Houston wins by over 2.5 points?", strike_type="greater", floor="2.5"
    )
    rsl = mk(
        "KXMLSSPREAD-26JUN20SJRSL-RSL1", title="Salt Lake wins by over 1.5 goals?", strike_type="greater", floor="1.5"
    )
    result = resolve([hou, rsl], events)
    assert (result.matches[hou.ticker].outcome, result.matches[hou.ticker].point) == ("Houston Texans", Decimal("-2.5"))
    assert (result.matches[rsl.ticker].outcome, result.matches[rsl.ticker].point) == ("Real Salt Lake", Decimal("-1.5"))
    assert result.matches[hou.ticker].market_key is MarketKind.SPREAD


def test_spread_that_is_not_the_over_side_or_disagrees_is_unmatched() -> None:
    events = [ev("nfl", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    wrong_line = mk("KXNFLSPREAD-26SEP27HOUIND-HOU4", title="Houston wins by over 3.5 points?", strike_type="greater",
                    floor="2.5")  # fmt: skip
    wrong_team = mk("KXNFLSPREAD-26SEP27HOUIND-HOU6", title="Indianapolis wins by over 5.5 points?",
                    strike_type="greater", floor="5.5")  # fmt: skip
    no_strike = mk("KXNFLSPREAD-26SEP27HOUIND-HOU8", strike_type="less", cap="7.5")
    result = resolve([wrong_line, wrong_team, no_strike], events)
    assert not result.matches
    assert len(result.unmatched) == 3


def test_totals_over_and_under() -> None:
    events = [ev("nhl", "icehockey_nhl", "2026-10-17T01:00:00+00:00", "Colorado Avalanche", "Pittsburgh Penguins")]
    over = mk(
        "KXNHLTOTAL-26OCT16PITCOL-7", title="Full Game: Over 6.5 goals scored", strike_type="greater", floor="6.5"
    )
    under = mk("KXNHLTOTAL-26OCT16PITCOL-6", title="Under 5.5 goals scored", strike_type="less", cap="5.5")
    odd = mk("KXNHLTOTAL-26OCT16PITCOL-U6", strike_type="less", cap="5.5")
    half = mk("KXNHLTOTAL-26OCT16PITCOL-3", title="1st Period: Over 2.5 goals scored", strike_type="greater",
              floor="2.5")  # fmt: skip
    innings = mk("KXMLBTOTAL-26JUN02WSHTB-5", title="First 5 Innings: Over 4.5 runs scored", strike_type="greater",
                 floor="4.5")  # fmt: skip
    assert not resolve(
        [innings], [ev("m", MLB, "2026-06-02T22:50:00+00:00", "Tampa Bay Rays", "Washington Nationals")]
    ).matches
    result = resolve([over, under, half, odd], events)
    assert (result.matches[over.ticker].outcome, result.matches[over.ticker].point) == ("Over", Decimal("6.5"))
    assert half.ticker not in result.matches
    assert (result.matches[under.ticker].outcome, result.matches[under.ticker].point) == ("Under", Decimal("5.5"))
    # "U6" is not a total suffix (an integer): refused rather than guessed.
    assert odd.ticker not in result.matches


def test_soccer_three_way_home_first() -> None:
    events = [ev("epl", "soccer_epl", "2026-08-23T15:30:00+00:00", "Newcastle United", "Liverpool")]
    markets = [mk("KXEPLGAME-26AUG23NEWLFC-NEW"), mk("KXEPLGAME-26AUG23NEWLFC-LFC"), mk("KXEPLGAME-26AUG23NEWLFC-TIE")]
    result = resolve(markets, events)
    assert [result.matches[m.ticker].outcome for m in markets] == ["Newcastle United", "Liverpool", "Draw"]
    assert all(m.confidence >= 0.9 for m in result.matches.values())
    knockout = mk(
        "KXUCLGAME-27MAR10ARSRMA-ARS",
        rules="If Arsenal wins the Arsenal vs Real Madrid professional UCL soccer game originally scheduled for "
        "Mar 10, 2027, including extra time and penalties, then the market resolves to Yes.",
    )
    ucl = [ev("ko", "soccer_uefa_champs_league", "2027-03-10T20:00:00+00:00", "Arsenal", "Real Madrid")]
    assert not resolve([knockout], ucl).matches
    tie_in_nfl = mk("KXNFLGAME-26OCT05ATLNO-TIE")
    assert not resolve([tie_in_nfl], []).matches


def test_college_miami_ohio_is_not_miami_florida() -> None:
    events = [
        ev("oh", "americanfootball_ncaaf", "2026-09-12T19:00:00+00:00", "Wisconsin Badgers", "Miami (OH) RedHawks"),
        ev("fl", "americanfootball_ncaaf", "2026-09-12T23:00:00+00:00", "Florida Gators", "Miami Hurricanes"),
    ]
    moh = mk("KXNCAAFGAME-26SEP12MOHWIS-MOH")
    rules = "If Miami (FL) wins the Miami (FL) at Florida college football game originally scheduled for Sep 12, 2026"
    mfl = mk("KXNCAAFGAME-26SEP12MIAFLA-MIA", rules=rules)
    result = resolve([moh, mfl], events)
    assert (result.matches[moh.ticker].odds_event_id, result.matches[moh.ticker].outcome) == (
        "oh",
        "Miami (OH) RedHawks",
    )
    assert (result.matches[mfl.ticker].odds_event_id, result.matches[mfl.ticker].outcome) == ("fl", "Miami Hurricanes")


def test_college_names_outside_the_table_use_fuzzy_scores_and_refuse_subsets() -> None:
    events = [ev("w", "americanfootball_ncaaf", "2026-10-24T01:00:00+00:00", "Colorado State Rams", "Wyoming Cowboys")]
    rules = "If Wyoming wins the Wyoming at Colorado St. college football game originally scheduled for Oct 23, 2026"
    good = mk("KXNCAAFGAME-26OCT23WYOCSU-WYO", rules=rules)
    assert resolve([good], events).matches[good.ticker].outcome == "Wyoming Cowboys"
    # "Colorado" alone is only a subset of "Colorado State Rams": never a match.
    rules = "If Wyoming wins the Wyoming at Colorado college football game originally scheduled for Oct 23, 2026"
    bad = mk("KXNCAAFGAME-26OCT23WYOCOLO-WYO", rules=rules)
    assert not resolve([bad], events).matches


def test_bad_input_is_reported_not_raised() -> None:
    markets = [
        mk("KXNFLGAME-XYZ-ATL"),
        mk("KXNBA-26-NYK"),
        mk("KXNFLGAME-26OCT05ATLNO-A1B"),
        mk("KXNFLGAME-26OCT05ATLNO-ATL"),
        mk("KXNFLGAME-26OCT05ATLNO-NO"),
        mk("KXNFLGAME-26OCT05ATLNO-SEA"),
    ]
    result = resolve(markets, [])
    assert not result.matches
    assert {u.ticker for u in result.unmatched} == {m.ticker for m in markets}


def test_overrides_always_win() -> None:
    events = [ev("e1", NFL, "2026-10-06T00:15:00+00:00", "New Orleans Saints", "Atlanta Falcons")]
    atl, no = mk("KXNFLGAME-26OCT05ATLNO-ATL"), mk("KXNFLGAME-26OCT05ATLNO-NO")
    pair = ManualPair(atl.ticker, "manual", MarketKind.WINNER, "Atlanta Falcons", note="checked by hand")
    result = resolve([atl, no], events, overrides=Overrides(pairs={atl.ticker: pair}, blocked_tickers={no.ticker: "x"}))
    assert result.matches[atl.ticker].odds_event_id == "manual"
    assert result.matches[atl.ticker].evidence[0].signal == "override"
    assert no.ticker not in result.matches
    blocked = resolve([atl], events, overrides=Overrides(blocked_odds_events={"e1": "bad feed"}))
    assert not blocked.matches and "bad feed" in blocked.unmatched[0].reason


def test_winner_groups_only_when_provably_complete() -> None:
    us = [mk("KXNFLGAME-26OCT05ATLNO-ATL"), mk("KXNFLGAME-26OCT05ATLNO-NO")]
    soccer = [mk("KXEPLGAME-26AUG23NEWLFC-NEW"), mk("KXEPLGAME-26AUG23NEWLFC-LFC"), mk("KXEPLGAME-26AUG23NEWLFC-TIE")]
    half = [mk("KXNBAGAME-26NOV05GSWPHX-GSW")]
    wrong = [mk("KXNHLGAME-26OCT16PITCOL-PIT"), mk("KXNHLGAME-26OCT16PITCOL-COLO")]
    two_way_soccer = [mk("KXEPLGAME-26SEP19MCIMUN-MCI"), mk("KXEPLGAME-26SEP19MCIMUN-MUN")]
    spreads = [mk("KXNFLSPREAD-26OCT05ATLNO-ATL3"), mk("KXNFLSPREAD-26OCT05ATLNO-NO3")]
    groups = winner_groups([*us, *soccer, *half, *wrong, *two_way_soccer, *spreads])
    assert [tuple(m.ticker for m in g) for g in groups] == [
        tuple(m.ticker for m in us),
        tuple(m.ticker for m in soccer),
    ]


def test_pro_team_name_missing_from_the_table_is_matched_by_fuzzy_score_only_when_unambiguous() -> None:
    events = [ev("u", "icehockey_nhl", "2026-10-18T02:00:00+00:00", "Utah Mammoth HC", "Vegas Golden Knights")]
    market = mk("KXNHLGAME-26OCT17VGKUTA-UTA")
    match = resolve([market], events).matches[market.ticker]
    assert match.outcome == "Utah Mammoth HC"
    assert any(e.signal == "fuzzy_name" for e in match.evidence)
    other = [ev("x", "icehockey_nhl", "2026-10-18T02:00:00+00:00", "Utah Grizzlies", "Vegas Golden Knights")]
    assert not resolve([market], other).matches


def test_spreads_do_not_inherit_teams_from_a_winner_event_whose_text_contradicts_its_codes() -> None:
    events = [ev("c", "americanfootball_ncaaf", "2026-10-24T01:00:00+00:00", "Colorado State Rams", "Wyoming Cowboys")]
    # The winner text lists the teams in the opposite order to the ticker codes (WYO first, CSU second).
    rules = "If Wyoming wins the Colorado St. at Wyoming college football game originally scheduled for Oct 23, 2026"
    winner = mk("KXNCAAFGAME-26OCT23WYOCSU-WYO", rules=rules)
    spread = mk("KXNCAAFSPREAD-26OCT23WYOCSU-WYO4", strike_type="greater", floor="3.5")
    result = resolve([winner, spread], events)
    assert winner.ticker not in result.matches
    assert spread.ticker not in result.matches


def test_ticker_codes_beat_a_title_that_resembles_another_game_on_the_board() -> None:
    events = [
        ev("lakers", "basketball_nba", "2026-12-02T03:30:00+00:00", "Golden State Warriors", "Los Angeles Lakers"),
        ev("clippers", "basketball_nba", "2026-12-02T03:00:00+00:00", "Golden State Warriors", "Los Angeles Clippers"),
    ]
    market = mk("KXNBAGAME-26DEC01LACGSW-LAC", title="Los Angeles Lakers at Golden State Warriors Winner?")
    match = resolve([market], events).matches[market.ticker]
    assert (match.odds_event_id, match.outcome) == ("clippers", "Los Angeles Clippers")
