"""Build tests/data/mapping_labelled.json: Kalshi markets and Odds API events with the known right answer.

The labels come from the game definitions below (which game, which team YES pays on, which line), never
from the resolver. Payload shapes and text formats follow ../shared/reference/kalshi-sports-markets.md
(2025-2026 tickers, titles and rules strings) and odds-api-v4.md. Run from the repository root:

    /work/venv/bin/python tests/data/make_mapping_labelled.py
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.mapping.teams import LEAGUES, league_teams

ET = ZoneInfo("America/New_York")
OUT = Path(__file__).with_name("mapping_labelled.json")
UNIT = {"nfl": "points", "ncaaf": "points", "nba": "Points", "ncaamb": "points", "wnba": "points", "mlb": "runs"}
SPORT_WORD = {
    "nfl": "professional football",
    "ncaaf": "college football",
    "nba": "professional basketball",
    "ncaamb": "college basketball",
    "wnba": "women's Pro Basketball",
    "mlb": "professional baseball",
    "nhl": "NHL",
}


@dataclass
class Game:
    league: str
    away: str  # Kalshi code as the ticker uses it (home first for soccer is handled by the builder)
    home: str
    start: str  # UTC ISO
    names: dict[str, str] = field(default_factory=dict)  # code -> Kalshi name when not in the table
    odds_names: dict[str, str] = field(default_factory=dict)  # code -> Odds API name override
    in_odds: bool = True
    reversed_in_odds: bool = False
    ticker_time: bool = False
    game_no: str = ""
    ticker_day: str = ""  # override of the ticker date (YYMONDD)
    spreads: tuple[tuple[str, float], ...] = ()
    totals: tuple[float, ...] = ()
    fmt: int = 0
    winner_expect: bool = True
    note: str = ""
    yes_in_no_sub: bool = False
    odds_id: str = ""
    winners: bool = True


def _team(league: str, code: str, name: str | None) -> tuple[str, str]:
    for t in league_teams(league):
        if code in t.codes or (name is not None and name in t.all_names):
            return t.kalshi_name, t.odds_name
    raise KeyError(f"{league} {code} {name}")


def kname(g: Game, code: str) -> str:
    if code in g.names:
        return g.names[code]
    return _team(g.league, code, None)[0]


def oname(g: Game, code: str) -> str:
    if code in g.odds_names:
        return g.odds_names[code]
    return _team(g.league, code, g.names.get(code))[1]


def event_id(g: Game) -> str:
    return g.odds_id or hashlib.md5(f"{g.league}{g.away}{g.home}{g.start}{g.game_no}".encode()).hexdigest()


def ticker_body(g: Game) -> str:
    start = datetime.fromisoformat(g.start.replace("Z", "+00:00")).astimezone(ET)
    day = g.ticker_day or start.strftime("%y%b%d").upper()
    hhmm = start.strftime("%H%M") if g.ticker_time else ""
    first, second = (g.home, g.away) if LEAGUES[g.league].home_first else (g.away, g.home)
    return f"{day}{hhmm}{first}{second}{g.game_no}"


def date_text(g: Game) -> str:
    start = datetime.fromisoformat(g.start.replace("Z", "+00:00")).astimezone(ET)
    text = f"{start:%b} {start.day}, {start.year}"
    if g.league == "mlb" and g.ticker_time:
        text += f" at {start:%-I:%M %p} {start.tzname()}"
    return text


def market(g: Game, series: str, suffix: str, title: str, rules: str, yes_sub: str, **extra: Any) -> dict[str, Any]:
    start = datetime.fromisoformat(g.start.replace("Z", "+00:00"))
    occurrence = (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    event_ticker = f"{series}-{ticker_body(g)}"
    m: dict[str, Any] = {
        "ticker": f"{event_ticker}-{suffix}",
        "event_ticker": event_ticker,
        "market_type": "binary",
        "status": "active",
        "title": title,
        "yes_sub_title": yes_sub,
        "no_sub_title": yes_sub,
        "rules_primary": rules,
        "rules_secondary": "",
        "yes_bid_dollars": "0.4700",
        "yes_ask_dollars": "0.4900",
        "no_bid_dollars": "0.5100",
        "no_ask_dollars": "0.5300",
        "last_price_dollars": "0.4800",
        "volume_fp": "1520.00",
        "open_interest_fp": "800.00",
        "close_time": (start + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "occurrence_datetime": occurrence,
        "expected_expiration_time": occurrence,
        "can_close_early": True,
    }
    m.update(extra)
    return m


def game_phrase(g: Game) -> str:
    lg = LEAGUES[g.league]
    if lg.three_way:
        return f"{kname(g, g.home)} vs {kname(g, g.away)} professional {g.league.upper()} soccer"
    joiner = " at " if g.fmt % 2 == 0 else " vs "
    return f"{kname(g, g.away)}{joiner}{kname(g, g.home)} {SPORT_WORD[g.league]}"


def winner_markets(g: Game) -> list[tuple[dict[str, Any], Any]]:
    lg = LEAGUES[g.league]
    out: list[tuple[dict[str, Any], Any]] = []
    codes = [g.home, g.away] if lg.three_way else [g.away, g.home]
    for code in codes:
        y = kname(g, code)
        other = kname(g, g.home if code == g.away else g.away)
        tail = " after 90 minutes plus stoppage time" if lg.three_way else ""
        rules = (
            f"If {y} wins the {game_phrase(g)} game originally scheduled for {date_text(g)}{tail}, "
            "then the market resolves to Yes."
        )
        if g.fmt % 3 == 0:
            title = f"{kname(g, g.away)} at {kname(g, g.home)} Winner?"
        elif g.fmt % 3 == 1:
            title = f"{y} wins"
        else:
            title = f"Will {y} win the {game_phrase(g)} game?"
        m = market(g, lg.winner_series, code, title, rules, y)
        if g.yes_in_no_sub:
            m["yes_sub_title"], m["no_sub_title"] = other, y
        expect = {"odds_event_id": event_id(g), "market_key": "h2h", "outcome": oname(g, code), "point": None}
        out.append((m, expect if (g.in_odds and g.winner_expect) else None))
    if lg.three_way:
        rules = (
            f"If Tie is the result of the {game_phrase(g)} game originally scheduled for {date_text(g)} "
            "after 90 minutes plus stoppage time, then the market resolves to Yes."
        )
        m = market(g, lg.winner_series, "TIE", f"{kname(g, g.home)} vs {kname(g, g.away)}: Tie?", rules, "Tie")
        expect = {"odds_event_id": event_id(g), "market_key": "h2h", "outcome": "Draw", "point": None}
        out.append((m, expect if (g.in_odds and g.winner_expect) else None))
    return out


def line_markets(g: Game) -> list[tuple[dict[str, Any], Any]]:
    lg = LEAGUES[g.league]
    unit = UNIT.get(g.league, "goals")
    out: list[tuple[dict[str, Any], Any]] = []
    for code, floor in g.spreads:
        y = kname(g, code)
        suffix = f"{code}{int(floor) if g.league == 'mls' else int(floor + 0.5)}"
        title = f"{y} wins by over {floor} {unit}?"
        rules = f"If {y} wins the {game_phrase(g)} game by over {floor} {unit}, then the market resolves to Yes."
        m = market(g, lg.spread_series, suffix, title, rules, y, strike_type="greater", floor_strike=floor)
        expect = {"odds_event_id": event_id(g), "market_key": "spreads", "outcome": oname(g, code), "point": -floor}
        out.append((m, expect if g.in_odds else None))
    for i, floor in enumerate(g.totals):
        title = (
            f"Full Game: over {floor} {unit.lower()} scored?" if i % 2 == 0 else f"Over {floor} {unit.lower()} scored"
        )
        rules = (
            f"If more than {floor} {unit.lower()} are scored in the {game_phrase(g)} game originally scheduled for "
            f"{date_text(g)}, then the market resolves to Yes."
        )
        m = market(
            g,
            lg.total_series,
            str(int(floor + 0.5)),
            title,
            rules,
            f"Over {floor}",
            strike_type="greater",
            floor_strike=floor,
        )
        expect = {"odds_event_id": event_id(g), "market_key": "totals", "outcome": "Over", "point": floor}
        out.append((m, expect if g.in_odds else None))
    return out


def odds_event(g: Game) -> dict[str, Any]:
    lg = LEAGUES[g.league]
    home, away = oname(g, g.home), oname(g, g.away)
    if g.reversed_in_odds:
        home, away = away, home
    h2h = [{"name": home, "price": -130}, {"name": away, "price": 110}]
    if lg.three_way:
        h2h.append({"name": "Draw", "price": 240})
    return {
        "id": event_id(g),
        "sport_key": lg.sport_key,
        "sport_title": g.league.upper(),
        "commence_time": g.start,
        "home_team": home,
        "away_team": away,
        "bookmakers": [
            {
                "key": "draftkings",
                "title": "DraftKings",
                "last_update": "2026-09-01T12:00:00Z",
                "markets": [{"key": "h2h", "last_update": "2026-09-01T12:00:00Z", "outcomes": h2h}],
            }
        ],
    }


def games() -> list[Game]:
    g: list[Game] = []
    # NFL: 2026 codes, 2025 Rams code LA, same-city teams, London game listed reversed, Monday night after midnight.
    g.append(
        Game(
            "nfl",
            "ATL",
            "NO",
            "2026-10-06T00:15:00Z",
            spreads=(("NO", 3.5), ("NO", 6.5)),
            totals=(44.5, 47.5),
            fmt=1,
            note="Monday night 20:15 ET: UTC date is the next day",
        )
    )
    g.append(Game("nfl", "GB", "DET", "2025-11-27T17:30:00Z", spreads=(("DET", 2.5),), totals=(48.5,), fmt=0))
    g.append(
        Game(
            "nfl",
            "LA",
            "SEA",
            "2025-12-19T01:15:00Z",
            spreads=(("SEA", 1.5),),
            totals=(41.5,),
            fmt=0,
            note="2025 Rams code LA",
        )
    )
    g.append(Game("nfl", "LAR", "SF", "2026-09-21T00:20:00Z", spreads=(("SF", 2.5),), fmt=1))
    g.append(
        Game("nfl", "DAL", "NYG", "2026-09-13T20:25:00Z", spreads=(("DAL", 3.5), ("DAL", 7.5)), totals=(45.5,), fmt=2)
    )
    g.append(
        Game(
            "nfl",
            "NYJ",
            "LAC",
            "2026-09-13T20:05:00Z",
            spreads=(("LAC", 4.5),),
            totals=(42.5,),
            fmt=1,
            note="same-city codes NYJ/NYG and LAC/LAR on one day",
        )
    )
    g.append(Game("nfl", "HOU", "IND", "2026-09-27T17:00:00Z", spreads=(("HOU", 2.5),), totals=(43.5, 46.5), fmt=1))
    g.append(
        Game(
            "nfl",
            "JAC",
            "PHI",
            "2026-10-11T13:30:00Z",
            reversed_in_odds=True,
            spreads=(("PHI", 7.5),),
            fmt=1,
            note="London game: Odds API lists the teams reversed",
        )
    )
    g.append(
        Game(
            "nfl",
            "LV",
            "WAS",
            "2026-10-18T17:00:00Z",
            totals=(40.5,),
            fmt=0,
            odds_names={"WAS": "Washington Commanders"},
        )
    )
    g.append(
        Game(
            "nfl",
            "LV",
            "KC",
            "2019-12-01T18:00:00Z",
            fmt=0,
            odds_names={"LV": "Oakland Raiders"},
            note="older season board: Odds API name before the move",
        )
    )
    g.append(
        Game(
            "nfl",
            "WAS",
            "DAL",
            "2021-12-26T01:20:00Z",
            fmt=0,
            odds_names={"WAS": "Washington Football Team"},
            note="Odds API name before the rename",
        )
    )
    g.append(
        Game(
            "nfl",
            "SEA",
            "TEN",
            "2026-08-23T00:00:00Z",
            fmt=1,
            yes_in_no_sub=True,
            note="preseason; no_sub_title names the other team",
        )
    )
    g.append(Game("nfl", "CIN", "PIT", "2026-11-08T18:00:00Z", fmt=1, totals=(42.5,), winners=False))
    g.append(
        Game(
            "nfl",
            "BUF",
            "MIA",
            "2026-10-01T00:15:00Z",
            in_odds=False,
            fmt=1,
            totals=(49.5,),
            note="no Odds API event: must stay unmatched",
        )
    )
    # NBA: LA Clippers vs Lakers same city; one ticker with a start time; a playoff rules string.
    g.append(
        Game("nba", "LAC", "LAL", "2026-03-09T02:30:00Z", spreads=(("LAC", 6.5), ("LAC", 3.5)), totals=(225.5,), fmt=1)
    )
    g.append(Game("nba", "BOS", "CLE", "2026-03-09T00:30:00Z", ticker_time=True, spreads=(("CLE", 2.5),), fmt=0))
    g.append(Game("nba", "TOR", "BOS", "2026-11-02T23:30:00Z", totals=(218.5, 221.5), fmt=0))
    g.append(Game("nba", "NYK", "OKC", "2026-11-05T01:00:00Z", spreads=(("OKC", 8.5),), fmt=2))
    g.append(Game("nba", "GSW", "PHX", "2026-11-06T03:00:00Z", fmt=1, note="10 PM ET tip"))
    g.append(Game("nba", "NOP", "SAS", "2026-11-07T01:00:00Z", totals=(229.5,), fmt=1))
    # MLB: doubleheaders (2026 G1/G2 with times, 2025 bare digit), a series on consecutive days, renamed teams.
    g.append(
        Game("mlb", "AZ", "SD", "2026-09-27T00:40:00Z", ticker_time=True, spreads=(("AZ", 1.5),), totals=(8.5,), fmt=1)
    )
    g.append(Game("mlb", "DET", "CLE", "2026-09-04T18:10:00Z", ticker_time=True, game_no="G1", fmt=1, totals=(7.5,)))
    g.append(Game("mlb", "DET", "CLE", "2026-09-04T23:15:00Z", ticker_time=True, game_no="G2", fmt=1, totals=(8.5,)))
    g.append(
        Game(
            "mlb", "DET", "MIL", "2025-04-16T17:10:00Z", game_no="1", fmt=0, odds_id="0d5c1f3e9a7b4c2d8e6f1a3b5c7d9e0f"
        )
    )
    g.append(Game("mlb", "DET", "MIL", "2025-04-16T22:40:00Z", game_no="2", fmt=0))
    g.append(
        Game(
            "mlb",
            "PHI",
            "NYM",
            "2026-08-15T17:10:00Z",
            ticker_time=True,
            game_no="G1",
            in_odds=False,
            fmt=1,
            note="doubleheader game 1 left the feed; only game 2 is listed",
        )
    )
    g.append(Game("mlb", "PHI", "NYM", "2026-08-15T23:10:00Z", ticker_time=True, game_no="G2", fmt=1))
    g.append(Game("mlb", "SEA", "HOU", "2025-05-10T18:10:00Z", game_no="1", in_odds=False, fmt=0, note="2025 game 1"))
    g.append(
        Game(
            "mlb",
            "SEA",
            "HOU",
            "2025-05-11T00:10:00Z",
            game_no="2",
            fmt=0,
            note="2025 game 2 alone on the board: told apart by occurrence_datetime",
        )
    )
    g.append(Game("mlb", "NYY", "BOS", "2026-07-10T23:10:00Z", ticker_time=True, totals=(9.5,), fmt=1))
    g.append(
        Game(
            "mlb",
            "NYY",
            "BOS",
            "2026-07-11T20:10:00Z",
            ticker_time=True,
            totals=(9.5,),
            fmt=1,
            note="same teams on consecutive days",
        )
    )
    g.append(Game("mlb", "NYM", "CHC", "2026-07-11T18:20:00Z", ticker_time=True, spreads=(("CHC", 1.5),), fmt=1))
    g.append(Game("mlb", "CWS", "LAD", "2026-07-12T02:10:00Z", ticker_time=True, fmt=0, note="10:10 PM ET"))
    g.append(Game("mlb", "ATH", "SEA", "2026-05-02T02:10:00Z", ticker_time=True, fmt=0))
    g.append(
        Game(
            "mlb",
            "ATH",
            "TEX",
            "2024-06-01T00:05:00Z",
            fmt=0,
            odds_names={"ATH": "Oakland Athletics"},
            note="Odds API name before the move",
        )
    )
    g.append(Game("mlb", "CLE", "KC", "2021-08-01T18:10:00Z", fmt=0, odds_names={"CLE": "Cleveland Indians"}))
    g.append(Game("mlb", "SF", "LAA", "2026-06-03T01:38:00Z", ticker_time=True, fmt=1, spreads=(("LAA", 1.5),)))
    g.append(Game("mlb", "WSH", "TB", "2026-06-03T22:50:00Z", ticker_time=True, fmt=1, totals=(8.5, 7.5)))
    # NHL: renamed Utah, Arizona code alias, Montreal accent, St Louis punctuation.
    g.append(
        Game("nhl", "PIT", "COL", "2026-10-17T01:00:00Z", spreads=(("COL", 1.5), ("COL", 2.5)), totals=(6.5,), fmt=1)
    )
    g.append(Game("nhl", "VGK", "UTA", "2026-10-18T02:00:00Z", spreads=(("VGK", 2.5),), fmt=1))
    g.append(Game("nhl", "UTA", "MTL", "2025-01-14T00:00:00Z", fmt=1, odds_names={"UTA": "Utah Hockey Club"}))
    g.append(Game("nhl", "ARI", "STL", "2024-02-18T19:00:00Z", fmt=0, odds_names={"ARI": "Arizona Coyotes"}))
    g.append(Game("nhl", "NYR", "NYI", "2026-11-27T00:00:00Z", totals=(5.5, 6.5), fmt=1))
    g.append(Game("nhl", "NJ", "TB", "2026-11-28T00:30:00Z", spreads=(("TB", 1.5),), fmt=0))
    g.append(Game("nhl", "LA", "SJ", "2026-11-29T03:30:00Z", fmt=1, totals=(6.5,), note="10:30 PM ET"))
    # WNBA.
    g.append(Game("wnba", "LV", "PHX", "2026-09-03T02:00:00Z", spreads=(("LV", 4.5),), totals=(166.5,), fmt=1))
    g.append(Game("wnba", "DAL", "SEA", "2026-09-24T02:00:00Z", totals=(181.5,), fmt=1))
    g.append(Game("wnba", "NY", "CONN", "2026-06-12T23:00:00Z", spreads=(("NY", 7.5),), fmt=0))
    g.append(Game("wnba", "GS", "PDX", "2026-06-14T01:00:00Z", fmt=1))
    # College football: table codes, Miami (OH) and Miami (FL) on one day, Hawaii after midnight, fuzzy names.
    g.append(Game("ncaaf", "WIS", "ND", "2026-09-05T23:30:00Z", spreads=(("ND", 10.5),), totals=(47.5,), fmt=2))
    g.append(Game("ncaaf", "MOH", "WIS", "2026-09-12T19:00:00Z", spreads=(("WIS", 14.5),), fmt=0))
    g.append(Game("ncaaf", "MIA", "FLA", "2026-09-12T23:00:00Z", fmt=0, names={"MIA": "Miami (FL)", "FLA": "Florida"}))
    g.append(Game("ncaaf", "STAN", "HAW", "2026-09-13T05:00:00Z", totals=(52.5,), fmt=2, note="1 AM ET kick-off"))
    g.append(Game("ncaaf", "NDSU", "SJSU", "2026-09-19T02:30:00Z", fmt=0))
    g.append(Game("ncaaf", "FSU", "CLEM", "2026-10-03T19:30:00Z", spreads=(("CLEM", 3.5),), fmt=2))
    g.append(Game("ncaaf", "NCST", "UNC", "2026-11-28T17:00:00Z", fmt=0))
    g.append(
        Game(
            "ncaaf",
            "TEX",
            "OU",
            "2026-10-10T16:00:00Z",
            fmt=0,
            reversed_in_odds=True,
            names={"TEX": "Texas", "OU": "Oklahoma"},
            note="neutral site in Dallas",
        )
    )
    g.append(
        Game("ncaaf", "TTU", "OKST", "2026-10-10T20:00:00Z", fmt=0, names={"TTU": "Texas Tech", "OKST": "Oklahoma St."})
    )
    g.append(Game("ncaaf", "OHIO", "OSU", "2026-09-05T16:00:00Z", fmt=0, names={"OHIO": "Ohio", "OSU": "Ohio St."}))
    g.append(
        Game(
            "ncaaf",
            "WYO",
            "CSU",
            "2026-10-24T01:00:00Z",
            fmt=0,
            names={"WYO": "Wyoming", "CSU": "Colorado St."},
            odds_names={"WYO": "Wyoming Cowboys", "CSU": "Colorado State Rams"},
            note="not in the team table",
        )
    )
    g.append(Game("ncaaf", "TCU", "UNLV", "2026-09-20T02:00:00Z", fmt=2))
    # College basketball: Miami (OH) vs Miami on one night, St. John's / Saint Mary's.
    g.append(Game("ncaamb", "MOH", "PUR", "2026-12-05T00:00:00Z", fmt=0, names={"MOH": "Miami (OH)", "PUR": "Purdue"}))
    g.append(
        Game(
            "ncaamb",
            "MIA",
            "DUKE",
            "2026-12-05T00:30:00Z",
            fmt=0,
            names={"MIA": "Miami", "DUKE": "Duke"},
            spreads=(("DUKE", 12.5),),
            totals=(151.5,),
        )
    )
    g.append(Game("ncaamb", "SJU", "CONN", "2026-12-06T17:00:00Z", fmt=2, names={"SJU": "St. John's", "CONN": "UConn"}))
    g.append(
        Game("ncaamb", "SMC", "GONZ", "2027-02-14T04:00:00Z", fmt=0, names={"SMC": "Saint Mary's", "GONZ": "Gonzaga"})
    )
    g.append(Game("ncaamb", "KU", "KSU", "2027-02-01T01:00:00Z", fmt=0, names={"KU": "Kansas", "KSU": "Kansas St."}))
    # Soccer (home first in tickers; TIE market).
    g.append(Game("epl", "LFC", "NEW", "2026-08-23T15:30:00Z", spreads=(("NEW", 1.5),), totals=(2.5, 3.5), fmt=0))
    g.append(Game("epl", "MUN", "MCI", "2026-09-19T11:30:00Z", totals=(2.5,), fmt=0))
    g.append(Game("epl", "CFC", "ARS", "2026-10-03T16:30:00Z", fmt=0))
    g.append(Game("epl", "BRI", "NFO", "2026-10-04T13:00:00Z", fmt=0))
    g.append(
        Game(
            "mls",
            "SJ",
            "RSL",
            "2026-06-21T01:30:00Z",
            spreads=(("RSL", 1.5),),
            totals=(3.5,),
            fmt=0,
            note="MLS spread suffix RSL1 means over 1.5",
        )
    )
    g.append(Game("mls", "LAG", "LAFC", "2026-07-05T02:30:00Z", fmt=0))
    g.append(Game("mls", "NYC", "NYRB", "2026-07-04T23:00:00Z", fmt=0))
    g.append(
        Game(
            "laliga",
            "BAR",
            "RMA",
            "2026-10-25T15:00:00Z",
            fmt=0,
            names={"BAR": "Barcelona", "RMA": "Real Madrid"},
            odds_names={"BAR": "Barcelona", "RMA": "Real Madrid"},
            note="no La Liga table: fuzzy names",
        )
    )
    return g


def extra_cases(board: list[Game]) -> list[tuple[dict[str, Any], Any, str]]:
    """Markets that must not match (traps from the reference and adversarial payloads)."""
    by = {(x.league, x.away, x.home, x.start): x for x in board}
    out: list[tuple[dict[str, Any], Any, str]] = []
    nba = by[("nba", "LAC", "LAL", "2026-03-09T02:30:00Z")]
    fut = market(nba, "KXNBA", "NYK", "Will the New York Knicks win the 2026 NBA Finals?", "", "New York")
    fut["ticker"], fut["event_ticker"] = "KXNBA-26-NYK", "KXNBA-26"
    out.append((fut, None, "championship future, not a game"))
    l2 = Game("epl", "ALM", "SPO", "2026-10-04T14:00:00Z", names={"ALM": "Almeria", "SPO": "Sporting Gijon"})
    m = market(l2, "KXLALIGA2GAME", "ALM", "Almeria wins", "", "Almeria")
    out.append((m, None, "second division series"))
    mls = by[("mls", "LAG", "LAFC", "2026-07-05T02:30:00Z")]
    star = market(mls, "KXMLSASTGAME", "MLS", "MLS All-Stars wins", "", "MLS All-Stars")
    out.append((star, None, "All-Star game series"))
    # Kalshi game with no time and no game number on a doubleheader day: ambiguous.
    dh = by[("mlb", "DET", "MIL", "2025-04-16T17:10:00Z")]
    m = market(dh, "KXMLBGAME", "DET", "Detroit wins", "", "Detroit")
    m["event_ticker"] = "KXMLBGAME-25APR16DETMIL"
    m["ticker"] = "KXMLBGAME-25APR16DETMIL-DET"
    out.append((m, None, "doubleheader without a start time or game number"))
    # Rules text names the other team as YES: swapped YES side (the game is on the board).
    swap = by[("nfl", "CIN", "PIT", "2026-11-08T18:00:00Z")]
    m = market(
        swap,
        "KXNFLGAME",
        "CIN",
        "Pittsburgh wins",
        "If Pittsburgh wins the Cincinnati at Pittsburgh professional football game originally scheduled for "
        "Nov 8, 2026, then the market resolves to Yes.",
        "Pittsburgh",
    )
    out.append((m, None, "rules text contradicts the suffix"))
    nfl = by[("nfl", "HOU", "IND", "2026-09-27T17:00:00Z")]
    # Spread whose text line disagrees with floor_strike.
    m = market(
        nfl,
        "KXNFLSPREAD",
        "HOU4",
        "Houston wins by over 3.5 points?",
        "",
        "Houston",
        strike_type="greater",
        floor_strike=2.5,
    )
    out.append((m, None, "spread text 3.5 vs floor_strike 2.5"))
    # First-half total in a total series.
    m = market(
        nfl,
        "KXNFLTOTAL",
        "24",
        "1st Half: over 23.5 points scored?",
        "",
        "Over 23.5",
        strike_type="greater",
        floor_strike=23.5,
    )
    out.append((m, None, "period market"))
    # LA at Golden State: the Odds board has the Lakers there that night, Kalshi's game is the Clippers.
    trap = Game("nba", "LAC", "GSW", "2026-12-02T03:00:00Z", in_odds=False)
    for code in ("LAC", "GSW"):
        y = kname(trap, code)
        m = market(
            trap,
            "KXNBAGAME",
            code,
            "LA at Golden State Winner?",
            f"If {y} wins the LA at Golden State professional basketball game originally scheduled for "
            "Dec 1, 2026, then the market resolves to Yes.",
            y,
        )
        out.append((m, None, "title fuzzy-matches the Lakers game; the Clippers game is not on the board"))
    # Same teams the next afternoon: Kalshi has Jul 12 NYY@BOS; the Odds board has only Jul 10 and Jul 11.
    nxt = Game("mlb", "NYY", "BOS", "2026-07-12T17:35:00Z", ticker_time=True)
    m = market(nxt, "KXMLBGAME", "NYY", "New York Y wins", "", "New York Y")
    out.append((m, None, "same teams on the previous day only"))
    return out


def build() -> dict[str, Any]:
    board = games()
    cases: list[dict[str, Any]] = []
    odds: list[dict[str, Any]] = []
    lakers = Game("nba", "LAL", "GSW", "2026-12-02T03:30:00Z")
    for game in [*board, lakers]:
        if game.in_odds:
            odds.append(odds_event(game))
    for game in board:
        for m, expect in (winner_markets(game) if game.winners else []) + line_markets(game):
            cases.append({"market": m, "expect": expect, "note": game.note})
    for m, expect, note in extra_cases(board):
        cases.append({"market": m, "expect": expect, "note": note})
    return {"as_of": "2026-09-01T12:00:00Z", "odds": odds, "cases": cases}


def main() -> None:
    doc = build()
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    matched = sum(1 for c in doc["cases"] if c["expect"] is not None)
    print(f"{OUT}: {len(doc['cases'])} markets ({matched} matchable), {len(doc['odds'])} Odds API events")


if __name__ == "__main__":
    main()
