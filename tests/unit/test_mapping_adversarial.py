"""Red-team cases for the mapping: realistic boards the labelled set does not cover.

Each case expects the correct match or no match with a reason; never a wrong game, a swapped YES side or a
line priced on the wrong side.
"""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal

from test_mapping_resolver import ev, mk

from engine.mapping.resolver import resolve, winner_groups
from engine.mapping.types import MappingResult
from engine.markets.kalshi import KalshiMarket

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


def test_rules_text_about_a_game_with_another_team_is_refused() -> None:
    rules = (
        "If Pittsburgh wins the Pittsburgh vs Colorado NHL game originally scheduled for Oct 16, 2026, then the "
        "market resolves to Yes."
    )
    market = mk("KXNHLGAME-26OCT16PITBOS-PIT", rules=rules)
    events = [
        ev("bos", NHL, "2026-10-16T23:00:00+00:00", "Boston Bruins", "Pittsburgh Penguins"),
        ev("col", NHL, "2026-10-16T23:00:00+00:00", "Colorado Avalanche", "Pittsburgh Penguins"),
    ]
    result = resolve([market], events)
    assert not result.matches
    assert "Colorado" in reason(result, market.ticker)
    # The YES name is a third team: neither side of the ticker's game.
    third = mk("KXNHLGAME-26OCT16PITBOS-PIT", title="Colorado wins")
    result = resolve([third], events)
    assert not result.matches and "neither" in reason(result, third.ticker)
    # A spread whose rules describe another game.
    spread_rules = "If Pittsburgh wins the Pittsburgh vs Colorado NHL game by over 1.5 goals, then"
    spread = mk("KXNHLSPREAD-26OCT16PITBOS-PIT2", rules=spread_rules, strike_type="greater", floor="1.5")
    assert not resolve([spread], events).matches


def test_same_city_pairs_keep_each_team_on_its_own_outcome() -> None:
    rangers_isles = [ev("e", NHL, "2026-11-11T00:00:00+00:00", "New York Islanders", "New York Rangers")]
    markets = [
        mk("KXNHLGAME-26NOV10NYRNYI-NYR", title="New York R wins"),
        mk("KXNHLGAME-26NOV10NYRNYI-NYI", title="New York I wins"),
        mk("KXNHLTOTAL-26NOV10NYRNYI-6", title="Over 5.5 goals scored", strike_type="greater", floor="5.5"),
    ]
    result = resolve(markets, rangers_isles)
    assert [result.matches[m.ticker].outcome for m in markets] == ["New York Rangers", "New York Islanders", "Over"]
    # A spread event alone (no winner sibling): one suffix code orients the pair.
    alone = mk("KXNHLSPREAD-26NOV10NYRNYI-NYI2", title="New York I wins by over 1.5 goals", strike_type="greater",
               floor="1.5")  # fmt: skip
    match = resolve([alone], rangers_isles).matches[alone.ticker]
    assert (match.outcome, match.point) == ("New York Islanders", Decimal("-1.5"))
    swapped = replace(alone, title="New York R wins by over 1.5 goals")
    assert not resolve([swapped], rangers_isles).matches
    # Odds API name variants of same-city teams.
    clippers = [ev("c", NBA, "2026-12-02T03:30:00+00:00", "LA Clippers", "Los Angeles Lakers")]
    lal, lac = mk("KXNBAGAME-26DEC01LALLAC-LAL"), mk("KXNBAGAME-26DEC01LALLAC-LAC")
    result = resolve([lal, lac], clippers)
    assert (result.matches[lal.ticker].outcome, result.matches[lac.ticker].outcome) == (
        "Los Angeles Lakers",
        "LA Clippers",
    )
    cubs_sox = [ev("cws", MLB, "2026-07-10T23:10:00+00:00", "Chicago White Sox", "Chicago Cubs")]
    chc, cws = mk("KXMLBGAME-26JUL101910CHCCWS-CHC"), mk("KXMLBGAME-26JUL101910CHCCWS-CWS")
    result = resolve([chc, cws], cubs_sox)
    assert (result.matches[chc.ticker].outcome, result.matches[cws.ticker].outcome) == (
        "Chicago Cubs",
        "Chicago White Sox",
    )
    # Rams "host" the Chargers at SoFi while the Odds API lists the Rams at home: neutral-site order.
    la = [ev("la", NFL, "2026-11-08T21:05:00+00:00", "Los Angeles Rams", "Los Angeles Chargers")]
    lar, lacn = mk("KXNFLGAME-26NOV08LARLAC-LAR"), mk("KXNFLGAME-26NOV08LARLAC-LAC")
    result = resolve([lar, lacn], la)
    assert (result.matches[lar.ticker].outcome, result.matches[lacn.ticker].outcome) == (
        "Los Angeles Rams",
        "Los Angeles Chargers",
    )
    blues = [ev("b", NHL, "2026-12-02T01:00:00+00:00", "Chicago Blackhawks", "St. Louis Blues")]
    stl = mk("KXNHLGAME-26DEC01STLCHI-STL", title="St. Louis wins")
    assert resolve([stl], blues).matches[stl.ticker].outcome == "St. Louis Blues"


def test_period_and_regulation_markets_are_not_full_game_markets() -> None:
    events = [ev("nfl", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    first_half = mk("KXNFLSPREAD-26SEP27HOUIND-HOU3", title="1H: Houston wins by over 2.5", strike_type="greater",
                    floor="2.5")  # fmt: skip
    q2 = mk("KXNFLTOTAL-26SEP27HOUIND-24", title="2Q total: over 23.5 points", strike_type="greater", floor="23.5")
    regulation = mk("KXNFLTOTAL-26SEP27HOUIND-45", title="Regulation: Over 44.5 points scored", strike_type="greater",
                    floor="44.5")  # fmt: skip
    result = resolve([first_half, q2, regulation], events)
    assert not result.matches
    assert "regulation" in reason(result, regulation.ticker)
    assert "period" in reason(result, first_half.ticker)


def test_spread_text_in_other_wordings_must_agree_with_the_strike() -> None:
    events = [ev("nfl", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    base = mk("KXNFLSPREAD-26SEP27HOUIND-HOU3", strike_type="greater", floor="2.5")
    for title in ("Houston loses by fewer than 2.5 points?", "Houston +2.5", "Houston (-3.5)"):
        result = resolve([replace(base, title=title)], events)
        assert not result.matches, title
    agreeing = resolve([replace(base, title="Houston -2.5")], events).matches[base.ticker]
    assert (agreeing.outcome, agreeing.point) == ("Houston Texans", Decimal("-2.5"))
    # The underdog's own ladder: YES = the underdog wins by more than the line, priced as that team's minus line.
    dog = mk("KXNFLSPREAD-26SEP27HOUIND-IND4", title="Indianapolis wins by over 3.5 points?", strike_type="greater",
             floor="3.5")  # fmt: skip
    match = resolve([dog], events).matches[dog.ticker]
    assert (match.outcome, match.point) == ("Indianapolis Colts", Decimal("-3.5"))


def test_winner_groups_refuse_every_group_that_might_not_be_exhaustive() -> None:
    nba = [mk("KXNBAGAME-26NOV05GSWPHX-GSW", title="Golden State wins"), mk("KXNBAGAME-26NOV05GSWPHX-PHX")]
    soccer = [mk("KXEPLGAME-26AUG23NEWLFC-NEW"), mk("KXEPLGAME-26AUG23NEWLFC-LFC"), mk("KXEPLGAME-26AUG23NEWLFC-TIE")]
    assert len(winner_groups([*nba, *soccer])) == 2
    refused = {
        "soccer without its TIE market": soccer[:2],
        "US event with a TIE market": [*nba, mk("KXNBAGAME-26NOV05GSWPHX-TIE")],
        "US event with a third team": [*nba, mk("KXNBAGAME-26NOV05GSWPHX-LAL")],
        "codes that do not spell the event": [mk("KXNBAGAME-26NOV05GSWPHX-GS"), nba[1]],
        "one team twice, the copies differ": [nba[0], replace(nba[0], status="closed"), nba[1]],
        "a market of another event": [
            replace(mk("KXNBAGAME-26NOV06GSWPHX-GSW"), event_ticker=nba[1].event_ticker),
            nba[1],
        ],
        "first-half winners (a half can be tied)": [
            replace(nba[0], title="1st Half: Golden State wins"),
            replace(nba[1], title="1st Half: Phoenix wins"),
        ],
        "regulation winners (a tie goes to overtime)": [
            mk("KXNHLGAME-26OCT16PITCOL-PIT", title="Regulation: Pittsburgh wins"),
            mk("KXNHLGAME-26OCT16PITCOL-COL", title="Regulation: Colorado wins"),
        ],
        "both texts name Phoenix": [replace(nba[0], title="Phoenix wins"), replace(nba[1], title="Phoenix wins")],
        "GSW text names Phoenix": [replace(nba[0], title="Phoenix wins"), nba[1]],
        "TIE text names a team": [*soccer[:2], replace(soccer[2], title="Liverpool wins")],
        "team text says Tie": [replace(soccer[0], title="Tie wins"), *soccer[1:]],
    }
    for why, markets in refused.items():
        assert winner_groups(markets) == [], why
    # The same market listed twice with identical content is one market: the group is found once.
    assert winner_groups([nba[0], nba[0], nba[1]]) == [tuple(nba)]


def test_team_total_in_a_total_series_is_not_the_game_total() -> None:
    events = [ev("nfl", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    titled = mk("KXNFLTOTAL-26SEP27HOUIND-24", title="Houston: over 23.5 points scored", strike_type="greater",
                floor="23.5")  # fmt: skip
    ruled = mk("KXNFLTOTAL-26SEP27HOUIND-21", rules="If Indianapolis scores over 20.5 points in the game, then",
               strike_type="greater", floor="20.5")  # fmt: skip
    game = mk("KXNFLTOTAL-26SEP27HOUIND-45", title="Full Game: over 44.5 points scored?", strike_type="greater",
              floor="44.5")  # fmt: skip
    result = resolve([titled, ruled, game], events)
    assert set(result.matches) == {game.ticker}
    assert "one team's total" in reason(result, titled.ticker)
    assert "one team's total" in reason(result, ruled.ticker)


def test_timestamps_without_a_zone_are_left_out_not_raised() -> None:
    aware = [ev("nfl", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    naive_occurrence = mk("KXNFLGAME-26SEP27HOUIND-HOU", occurrence="2026-09-27T20:00:00")
    assert resolve([naive_occurrence], aware).matches[naive_occurrence.ticker].outcome == "Houston Texans"
    next_day = [ev("nfl", NFL, "2026-09-28T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    assert not resolve([naive_occurrence], next_day).matches
    naive_start = [ev("nfl", NFL, "2026-09-27T17:00:00", "Indianapolis Colts", "Houston Texans")]
    result = resolve([mk("KXNFLGAME-26SEP27HOUIND-HOU")], naive_start)
    assert not result.matches and result.unmatched


def test_college_short_name_never_matches_a_longer_school_that_merely_starts_with_it() -> None:
    def game(codes: str, away: str, home: str, code: str, yes: str) -> KalshiMarket:
        rules = f"If {yes} wins the {away} at {home} college basketball game originally scheduled for Dec 5, 2026"
        return mk(f"KXNCAAMBGAME-26DEC05{codes}-{code}", rules=rules)

    cases = [
        (game("HOUTXAM", "Houston", "Texas A&M", "TXAM", "Texas A&M"), "Texas A&M-CC Islanders", "Houston Cougars"),
        (game("ALCNSOU", "Alcorn St.", "Southern", "SOU", "Southern"), "Southern Miss Golden Eagles",
         "Alcorn State Braves"),
        (game("ALCNARK", "Alcorn St.", "Arkansas", "ARK", "Arkansas"), "Arkansas-Pine Bluff Golden Lions",
         "Alcorn State Braves"),
        (game("STETFLA", "Stetson", "Florida", "FLA", "Florida"), "Florida Gulf Coast Eagles", "Stetson Hatters"),
        (game("OAKPUR", "Oakland", "Purdue", "PUR", "Purdue"), "Purdue Fort Wayne Mastodons",
         "Oakland Golden Grizzlies"),
    ]  # fmt: skip
    for market, home, away in cases:
        board = [ev("x", "basketball_ncaab", "2026-12-05T20:00:00+00:00", home, away)]
        assert not resolve([market], board).matches, market.ticker
    # The full school name still matches its own team.
    own = game("ALCNARK", "Alcorn St.", "Arkansas-Pine Bluff", "ARK", "Arkansas-Pine Bluff")
    board = [ev("x", "basketball_ncaab", "2026-12-05T20:00:00+00:00", "Arkansas-Pine Bluff Golden Lions",
                "Alcorn State Braves")]  # fmt: skip
    assert resolve([own], board).matches[own.ticker].outcome == "Arkansas-Pine Bluff Golden Lions"


def test_college_prefix_families_and_the_two_miamis() -> None:
    def game(sport: str, codes: str, away: str, home: str, code: str, yes: str) -> KalshiMarket:
        series, word = ("KXNCAAFGAME", "football") if sport.endswith("ncaaf") else ("KXNCAAMBGAME", "basketball")
        rules = f"If {yes} wins the {away} at {home} college {word} game originally scheduled for Nov 28, 2026"
        return mk(f"{series}-26NOV28{codes}-{code}", rules=rules)

    cf = "americanfootball_ncaaf"
    board = [
        ev("tt", cf, "2026-11-28T17:00:00+00:00", "Texas Tech Red Raiders", "Texas Longhorns"),
        ev("ta", cf, "2026-11-29T00:30:00+00:00", "Texas A&M Aggies", "North Texas Mean Green"),
        ev("ut", cf, "2026-11-28T20:00:00+00:00", "UTSA Roadrunners", "Texas State Bobcats"),
    ]
    expected = {
        game(cf, "TEXTTU", "Texas", "Texas Tech", "TEX", "Texas"): ("tt", "Texas Longhorns"),
        game(cf, "TEXTTU", "Texas", "Texas Tech", "TTU", "Texas Tech"): ("tt", "Texas Tech Red Raiders"),
        game(cf, "UNTTXAM", "North Texas", "Texas A&M", "UNT", "North Texas"): ("ta", "North Texas Mean Green"),
        game(cf, "UNTTXAM", "North Texas", "Texas A&M", "TXAM", "Texas A&M"): ("ta", "Texas A&M Aggies"),
        game(cf, "TXSTUTSA", "Texas St.", "UTSA", "TXST", "Texas St."): ("ut", "Texas State Bobcats"),
        game(cf, "TXSTUTSA", "Texas St.", "UTSA", "UTSA", "UTSA"): ("ut", "UTSA Roadrunners"),
    }
    absent = [
        game(cf, "TEXTXAM", "Texas", "Texas A&M", "TEX", "Texas"),
        game(cf, "TEXUTSA", "Texas", "UTSA", "TEX", "Texas"),
        game(cf, "UNTTEX", "North Texas", "Texas", "TEX", "Texas"),
    ]
    result = resolve([*expected, *absent], board)
    assert {t: (m.odds_event_id, m.outcome) for t, m in result.matches.items()} == {
        m.ticker: want for m, want in expected.items()
    }
    cb = "basketball_ncaab"
    miamis = [
        ev("fl", cb, "2026-11-28T17:00:00+00:00", "Miami Hurricanes", "Ohio Bobcats"),
        ev("oh", cb, "2026-11-28T17:00:00+00:00", "Miami (OH) RedHawks", "Ohio State Buckeyes"),
    ]
    fl = game(cb, "OHIOMIA", "Ohio", "Miami (FL)", "MIA", "Miami (FL)")
    oh = game(cb, "OSUMOH", "Ohio St.", "Miami (OH)", "MOH", "Miami (OH)")
    plain = game(cb, "OSUMIA", "Ohio St.", "Miami", "MIA", "Miami")
    result = resolve([fl, oh, plain], miamis)
    assert (result.matches[fl.ticker].odds_event_id, result.matches[fl.ticker].outcome) == ("fl", "Miami Hurricanes")
    assert (result.matches[oh.ticker].odds_event_id, result.matches[oh.ticker].outcome) == ("oh", "Miami (OH) RedHawks")
    assert plain.ticker not in result.matches, "plain 'Miami' is Miami (FL), never the RedHawks"


def test_renamed_team_and_soccer_order() -> None:
    utah = [ev("u", NHL, "2026-01-14T00:00:00+00:00", "Montreal Canadiens", "Utah Mammoth")]
    old_name = [ev("u", NHL, "2025-01-14T00:00:00+00:00", "Montréal Canadiens", "Utah Hockey Club")]
    new, old = mk("KXNHLGAME-26JAN13UTAMTL-UTA"), mk("KXNHLGAME-25JAN13UTAMTL-MTL")
    assert resolve([new], utah).matches[new.ticker].outcome == "Utah Mammoth"
    assert resolve([old], old_name).matches[old.ticker].outcome == "Montréal Canadiens"
    jazz = mk("KXNBAGAME-26JAN13UTAMIA-UTA")
    board = [ev("j", NBA, "2026-01-14T00:30:00+00:00", "Miami Heat", "Utah Jazz"), *utah]
    assert resolve([jazz], board).matches[jazz.ticker].outcome == "Utah Jazz"
    # Soccer tickers are HOME then AWAY; a ticker in the other order still maps each code to its own club.
    epl = [ev("epl", "soccer_epl", "2026-08-23T15:30:00+00:00", "Newcastle United", "Liverpool")]
    flipped = [mk("KXEPLGAME-26AUG23LFCNEW-LFC"), mk("KXEPLGAME-26AUG23LFCNEW-NEW"), mk("KXEPLGAME-26AUG23LFCNEW-TIE")]
    result = resolve(flipped, epl)
    assert [result.matches[m.ticker].outcome for m in flipped] == ["Liverpool", "Newcastle United", "Draw"]
    assert all(m.confidence < 1 for m in result.matches.values())
    tie_text = mk("KXEPLGAME-26AUG23NEWLFC-TIE", rules="If Liverpool wins the Newcastle vs Liverpool professional EPL "
                  "soccer game originally scheduled for Aug 23, 2026 after 90 minutes plus stoppage time")  # fmt: skip
    assert not resolve([tie_text], epl).matches


def test_totals_and_strikes() -> None:
    events = [ev("nfl", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    under = mk("KXNFLTOTAL-26SEP27HOUIND-44", title="Under 43.5 points scored", strike_type="less", cap="43.5")
    match = resolve([under], events).matches[under.ticker]
    assert (match.outcome, match.point) == ("Under", Decimal("43.5"))
    refused = [
        mk("KXNFLTOTAL-26SEP27HOUIND-45", title="Under 44.5 points scored", strike_type="greater", floor="44.5"),
        mk("KXNFLTOTAL-26SEP27HOUIND-46", strike_type="less", floor="45.5"),
        mk("KXNFLTOTAL-26SEP27HOUIND-47", title="Over 47.5 points scored", strike_type="greater", floor="46.5"),
        mk("KXNFLTOTAL-26SEP27HOUIND-48", strike_type="between", floor="44.5", cap="47.5"),
        mk("KXNFLTOTAL-26SEP27HOUIND-49", strike_type="greater"),
        mk("KXNFLSPREAD-26SEP27HOUIND-HOU3", title="Houston wins by over 2.5 points?", strike_type="greater"),
        mk("KXNFLSPREAD-26SEP27HOUIND-HOU4", title="Houston wins by over 2.5 points?", strike_type="greater",
           floor="3.5"),
        mk("KXNFLSPREAD-26SEP27HOUIND-HOU5", strike_type="less", cap="4.5"),
    ]  # fmt: skip
    result = resolve(refused, events)
    assert not result.matches and len(result.unmatched) == len(refused)


def test_malformed_markets_and_events_are_unmatched_with_a_reason() -> None:
    events = [
        ev("nfl", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans"),
        ev("same", NFL, "2026-09-28T17:00:00+00:00", "Houston Texans", "Houston Texans"),
        ev("blank", NFL, "2026-09-29T17:00:00+00:00", "", ""),
    ]
    markets = [
        mk(""),
        mk("KXNFLGAME"),
        mk("KXNFLGAME-26SEP27HOUIND-"),
        mk("kxnflgame-26sep27houind-hou"),
        mk("KXNFLGAME-26FEB30HOUIND-HOU"),
        mk("KXNFLGAME-26SEP27HOUIND-HOUIND"),
        mk("KXNFLGAME-26SEP27HOUIND-HOU3"),
        mk("KXNFLGAME-26SEP28HOUHOU-HOU"),
        mk("KXNFLGAME-26SEP29HOUIND-HOU"),
        mk("KXNFLGAME-26SEP27HOUIND-HOU", rules="If  wins the  game", title=": wins"),
    ]
    result = resolve(markets, events)
    # One malformed market (HOUIND) makes its whole event suspect: the plain HOU market is refused with it.
    assert not result.matches
    assert all(u.reason for u in result.unmatched) and len(result.unmatched) == len(markets)
    assert "do not spell" in reason(result, "KXNFLGAME-26SEP27HOUIND-HOU")
    alone = resolve([markets[-1]], events).matches[markets[-1].ticker]
    assert (alone.odds_event_id, alone.outcome) == ("nfl", "Houston Texans")


def test_the_same_game_listed_twice_by_the_odds_api_is_ambiguous() -> None:
    events = [
        ev("a", NHL, "2026-10-17T01:00:00+00:00", "Colorado Avalanche", "Pittsburgh Penguins"),
        ev("b", NHL, "2026-10-17T01:30:00+00:00", "Colorado Avalanche", "Pittsburgh Penguins"),
    ]
    market = mk("KXNHLGAME-26OCT16PITCOL-PIT")
    result = resolve([market], events)
    assert not result.matches and "ambiguous" in reason(result, market.ticker)


def test_spread_alone_whose_rules_list_the_teams_in_the_other_order_is_never_priced_on_the_other_team() -> None:
    # No winner event on the board, college codes not in the table: the sides come from the spread's own rules,
    # which list the teams in the opposite order to the ticker. The YES team named by the rules decides.
    events = [ev("c", "americanfootball_ncaaf", "2026-10-24T01:00:00+00:00", "Colorado State Rams", "Wyoming Cowboys")]
    swapped = mk(
        "KXNCAAFSPREAD-26OCT23WYOCSU-CSU4",
        rules="If Colorado St. wins the Colorado St. at Wyoming college football game by over 3.5 points, then",
        strike_type="greater",
        floor="3.5",
    )
    result = resolve([swapped], events)
    assert not result.matches, "would price Wyoming -3.5 for a Colorado St. market"
    assert "CSU" in reason(result, swapped.ticker)
    ordered = replace(
        swapped,
        rules_primary="If Colorado St. wins the Wyoming at Colorado St. college football game by over 3.5 points",
    )
    match = resolve([ordered], events).matches[ordered.ticker]
    assert (match.outcome, match.point) == ("Colorado State Rams", Decimal("-3.5"))
    # The rules line is a witness of its own: a title that agrees does not hide rules that disagree.
    nfl = [ev("n", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    split = mk(
        "KXNFLSPREAD-26SEP27HOUIND-HOU3",
        title="Houston wins by over 2.5 points?",
        rules="If Houston wins the Houston vs Indianapolis professional football game by over 3.5 points, then",
        strike_type="greater",
        floor="2.5",
    )
    assert not resolve([split], nfl).matches
    total = mk(
        "KXNFLTOTAL-26SEP27HOUIND-45",
        title="Over 44.5 points scored",
        rules="If the Houston vs Indianapolis game has under 44.5 points scored, then",
        strike_type="greater",
        floor="44.5",
    )
    assert not resolve([total], nfl).matches


def test_doubleheader_number_without_a_start_time_is_vetted_by_occurrence() -> None:
    # 2025-style ticker (bare game number, no start time). Game 1 left the feed; the board has game 2 and a
    # second listing of it, so "first by start order" is not game 1.
    events = [
        ev("g2", MLB, "2025-04-16T23:10:00+00:00", "Milwaukee Brewers", "Detroit Tigers"),
        ev("g2b", MLB, "2025-04-16T23:40:00+00:00", "Milwaukee Brewers", "Detroit Tigers"),
    ]
    game1 = mk("KXMLBGAME-25APR16DETMIL1-DET", occurrence="2025-04-16T20:10:00+00:00")
    result = resolve([game1], events)
    assert not result.matches and "occurrence" in reason(result, game1.ticker)
    both = [ev("g1", MLB, "2025-04-16T17:10:00+00:00", "Milwaukee Brewers", "Detroit Tigers"), events[0]]
    assert resolve([game1], both).matches[game1.ticker].odds_event_id == "g1"


def test_a_huge_market_text_costs_linear_time() -> None:
    events = [ev("n", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    texts = ["a" * 20000, "wins the " * 2500, "If a wins the " * 400, " -" * 10000]
    markets = [
        mk(f"KXNFLSPREAD-26SEP27HOUIND-HOU{i}", title=t, rules=t, strike_type="greater", floor="2.5")
        for i, t in enumerate(texts, start=3)
    ]
    started = time.perf_counter()
    result = resolve(markets, events)
    assert time.perf_counter() - started < 1.0  # a quadratic pattern takes tens of seconds here
    assert len(result.matches) + len(result.unmatched) == len(markets)


def test_spread_without_any_text_is_priced_from_suffix_and_floor_strike_alone() -> None:
    events = [ev("n", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    bare = mk("KXNFLSPREAD-26SEP27HOUIND-IND4", strike_type="greater", floor="3.5")
    match = resolve([bare], events).matches[bare.ticker]
    assert (match.outcome, match.point) == ("Indianapolis Colts", Decimal("-3.5"))
    assert match.confidence < 1.0


def test_ticker_start_time_within_the_window_does_not_override_occurrence_naming_another_day() -> None:
    # Yankees at Red Sox: 19:10 ET on Jul 10, 16:10 ET on Jul 11. A Jul 11 19:10 ticker whose occurrence_datetime
    # is the Jul 10 game must not be priced on the Jul 11 afternoon game just because it starts 3 h earlier.
    events = [
        ev("jul10", MLB, "2026-07-10T23:10:00+00:00", "Boston Red Sox", "New York Yankees"),
        ev("jul11", MLB, "2026-07-11T20:10:00+00:00", "Boston Red Sox", "New York Yankees"),
    ]
    odd = mk("KXMLBGAME-26JUL111910NYYBOS-NYY", occurrence="2026-07-11T02:10:00+00:00")
    result = resolve([odd], events[1:])
    assert not result.matches and "occurrence" in reason(result, odd.ticker)
    fine = mk("KXMLBGAME-26JUL111610NYYBOS-NYY", occurrence="2026-07-11T23:10:00+00:00")
    assert resolve([fine], events).matches[fine.ticker].odds_event_id == "jul11"


def test_after_midnight_eastern_and_neutral_site_college_games() -> None:
    cf = "americanfootball_ncaaf"
    # Stanford at Hawaii kicks off 00:30 ET on Sep 13 (Sep 12 in Honolulu): the ET-dated ticker matches exactly,
    # a ticker on the local date matches with less confidence, one two days off never does.
    hawaii = [ev("h", cf, "2026-09-13T04:30:00+00:00", "Hawaii Rainbow Warriors", "Stanford Cardinal")]
    rules = "If Stanford wins the Stanford at Hawaii college football game originally scheduled for {}, 2026, then"
    et = mk("KXNCAAFGAME-26SEP13STANHAW-STAN", rules=rules.format("Sep 13"))
    local = mk("KXNCAAFGAME-26SEP12STANHAW-STAN", rules=rules.format("Sep 12"))
    off = mk("KXNCAAFGAME-26SEP11STANHAW-STAN", rules=rules.format("Sep 11"))
    result = resolve([et, local, off], hawaii)
    assert result.matches[et.ticker].outcome == result.matches[local.ticker].outcome == "Stanford Cardinal"
    assert result.matches[local.ticker].confidence < result.matches[et.ticker].confidence
    assert off.ticker not in result.matches
    # Neutral site: the Odds API calls LSU home; Kalshi lists LSU first (away). Each code keeps its own team.
    neutral = [ev("x", cf, "2026-09-05T23:30:00+00:00", "LSU Tigers", "Clemson Tigers")]
    text = "If {} wins the {} vs {} college football game originally scheduled for Sep 5, 2026, then"
    lsu = mk("KXNCAAFGAME-26SEP05LSUCLEM-LSU", rules=text.format("LSU", "LSU", "Clemson"))
    clem = mk("KXNCAAFGAME-26SEP05LSUCLEM-CLEM", rules=text.format("Clemson", "LSU", "Clemson"))
    result = resolve([lsu, clem], neutral)
    assert (result.matches[lsu.ticker].outcome, result.matches[clem.ticker].outcome) == (
        "LSU Tigers",
        "Clemson Tigers",
    )
    # Text listing the teams against the ticker order is refused, never assigned by position.
    flipped = [replace(m, rules_primary=text.format(y, "Clemson", "LSU")) for m, y in ((lsu, "LSU"), (clem, "Clemson"))]
    assert not resolve(flipped, neutral).matches


def test_a_strike_that_is_not_a_finite_number_is_refused() -> None:
    events = [ev("n", NFL, "2026-09-27T17:00:00+00:00", "Indianapolis Colts", "Houston Texans")]
    markets = [
        mk("KXNFLSPREAD-26SEP27HOUIND-HOU3", strike_type="greater", floor="NaN"),
        mk("KXNFLSPREAD-26SEP27HOUIND-HOU4", strike_type="greater", floor="Infinity"),
        mk("KXNFLTOTAL-26SEP27HOUIND-45", strike_type="greater", floor="NaN"),
        mk("KXNFLTOTAL-26SEP27HOUIND-46", strike_type="less", cap="-Infinity"),
    ]
    result = resolve(markets, events)
    assert not result.matches and len(result.unmatched) == len(markets)


def test_total_rules_date_and_soccer_extra_time_apply_to_every_market_kind() -> None:
    # The ticker says Aug 23, the total's own rules say Aug 22: refused, as a winner market already is.
    epl = [ev("epl", "soccer_epl", "2026-08-23T15:30:00+00:00", "Newcastle United", "Liverpool")]
    rules = "If more than 2.5 goals are scored in the Newcastle vs Liverpool professional EPL soccer game originally "
    dated = mk("KXEPLTOTAL-26AUG23NEWLFC-3", rules=rules + "scheduled for Aug 22, 2026, then", strike_type="greater",
               floor="2.5", occurrence="2026-08-23T18:30:00+00:00")  # fmt: skip
    result = resolve([dated], epl)
    assert not result.matches and "date" in reason(result, dated.ticker)
    # A cup tie whose total counts extra time is not the Odds API's 90-minute total.
    cup = mk("KXEPLTOTAL-26AUG23NEWLFC-3", strike_type="greater", floor="2.5",
             rules=rules + "scheduled for Aug 23, 2026, including extra time, then")  # fmt: skip
    assert not resolve([cup], epl).matches
    plain = replace(cup, rules_primary=rules + "scheduled for Aug 23, 2026, then")
    assert resolve([plain], epl).matches[plain.ticker].outcome == "Over"
