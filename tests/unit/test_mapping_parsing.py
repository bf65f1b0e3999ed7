"""Ticker grammar, rules-text reading, fuzzy name rules and the team tables."""

from __future__ import annotations

import json
import os
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.mapping.fuzzy import FuzzyScores, school_prefix
from engine.mapping.overrides import OverridesFile, parse_overrides
from engine.mapping.rules import spread_text, total_text, winner_text
from engine.mapping.teams import LEAGUES, league_of_series, league_teams, parse_team_table, team_index
from engine.mapping.ticker import TickerError, orient, parse_event_ticker, parse_suffix
from engine.mapping.types import MarketKind


@pytest.mark.parametrize(
    ("ticker", "day", "start", "codes", "game"),
    [
        ("KXNFLGAME-26OCT05ATLNO", date(2026, 10, 5), None, "ATLNO", None),
        ("KXMLBGAME-26SEP262040AZSD", date(2026, 9, 26), time(20, 40), "AZSD", None),
        ("KXMLBGAME-26SEP041410DETCLEG1", date(2026, 9, 4), time(14, 10), "DETCLE", 1),
        ("KXMLBGAME-25APR16DETMIL2", date(2025, 4, 16), None, "DETMIL", 2),
        ("KXNBAGAME-26MAR081930BOSCLE", date(2026, 3, 8), time(19, 30), "BOSCLE", None),
        ("KXNCAAFGAME-25SEP13M-OHWIS", date(2025, 9, 13), None, "MOHWIS", None),
    ],
)
def test_event_ticker(ticker: str, day: date, start: time | None, codes: str, game: int | None) -> None:
    parsed = parse_event_ticker(ticker)
    assert (parsed.day, parsed.start, parsed.codes, parsed.game) == (day, start, codes, game)


@pytest.mark.parametrize(
    "bad", ["KXNFLGAME", "KXNFLGAME-26XYZ05ATLNO", "KXNFLGAME-26FEB30ATLNO", "KXNBA-26", "X-26OCT052599AB"]
)
def test_bad_event_tickers_raise_a_typed_error(bad: str) -> None:
    with pytest.raises(TickerError):
        parse_event_ticker(bad)


def test_suffixes_and_orientation() -> None:
    assert parse_suffix("PIT").kind == "team"
    assert parse_suffix("TIE").kind == "tie"
    assert (parse_suffix("HOU3").kind, parse_suffix("HOU3").code) == ("team_line", "HOU")
    assert parse_suffix("182").kind == "line"
    with pytest.raises(TickerError):
        parse_suffix("3HOU")
    assert orient("LACHI", "LA") == ("LA", "CHI")
    assert orient("LACHI", "CHI") == ("LA", "CHI")
    assert orient("NYNY", "NY") is None
    assert orient("ATLNO", "SEA") is None


def test_rules_strings_from_the_reference() -> None:
    t = winner_text(
        "If Green Bay wins the Green Bay at Detroit professional football game originally scheduled for "
        "Nov 27, 2025, then the market resolves to Yes.",
        "Green Bay at Detroit Winner?",
    )
    assert t is not None and (t.yes, t.first, t.second, t.day) == (
        "Green Bay",
        "Green Bay",
        "Detroit",
        date(2025, 11, 27),
    )
    t = winner_text("If San Antonio wins the Game 3: San Antonio at New York professional basketball game ...", "")
    assert t is not None and (t.first, t.second) == ("San Antonio", "New York")
    t = winner_text("", "Seattle vs Tennessee Pro Football game: TEN Titans wins?")
    assert t is not None and t.yes == "TEN Titans"
    t = winner_text("", "Will Notre Dame win the Wisconsin vs Notre Dame college football game?")
    assert t is not None and (t.yes, t.first, t.second) == ("Notre Dame", "Wisconsin", "Notre Dame")
    s = spread_text("", "PHI Eagles wins by over 7.5 points?")
    assert s is not None and (s.team, s.over, s.value) == ("PHI Eagles", True, Decimal("7.5"))
    o = total_text("", "Full Game: over 65.5 points scored?")
    assert o is not None and (o.over, o.value) == (True, Decimal("65.5"))
    assert winner_text("Something else entirely", "") is None


def test_fuzzy_refuses_subsets_and_other_schools() -> None:
    assert school_prefix("texas", "texas longhorns")
    assert not school_prefix("texas", "texas tech red raiders")
    assert not school_prefix("texas", "north texas mean green")
    assert not school_prefix("miami", "miami oh redhawks")
    f = FuzzyScores(["Miami (OH)", "Miami (FL)"], ["Miami (OH) RedHawks", "Miami Hurricanes"])
    assert f.score("Miami (OH)", "Miami (OH) RedHawks") == 100.0
    assert f.score("Miami (FL)", "Miami (OH) RedHawks") < 90.0
    assert f.score("Miami (FL)", "Miami Hurricanes") < 90.0


def test_team_tables_load_and_carry_aliases_across_seasons() -> None:
    for key in ("nfl", "nba", "mlb", "nhl"):
        assert len(league_teams(key)) >= 30
    assert team_index("nfl").code("LA") is team_index("nfl").code("LAR")
    assert team_index("nfl").name("Oakland Raiders") is team_index("nfl").code("LV")
    assert team_index("nfl").name("Washington Football Team") is team_index("nfl").code("WAS")
    assert team_index("mlb").name("Cleveland Indians") is team_index("mlb").code("CLE")
    assert team_index("mlb").name("Oakland Athletics") is team_index("mlb").code("ATH")
    assert team_index("nhl").name("Arizona Coyotes") is team_index("nhl").code("UTA")
    assert team_index("nhl").name("Montreal Canadiens") is team_index("nhl").code("MTL")
    assert team_index("ncaaf").code("M-OH") is team_index("ncaaf").name("Miami (OH)")
    assert team_index("ncaaf").name("Miami (OH)") is not team_index("ncaaf").name("Miami (FL)")


def test_league_registry() -> None:
    assert league_of_series("KXNFLSPREAD") == (LEAGUES["nfl"], "spread")
    assert league_of_series("KXLALIGA2GAME") is None
    assert league_of_series("KXMLSASTGAME") is None
    assert LEAGUES["epl"].home_first and LEAGUES["epl"].three_way and not LEAGUES["nba"].home_first
    assert LEAGUES["nhl"].sport_key == "icehockey_nhl"


def test_team_table_rejects_a_code_used_twice() -> None:
    doc = {
        "teams": [
            {"code": "LA", "kalshi_name": "Los Angeles R", "odds_name": "Los Angeles Rams"},
            {"code": "LAC", "aliases": ["LA"], "kalshi_name": "Los Angeles C", "odds_name": "Los Angeles Chargers"},
        ]
    }
    with pytest.raises(ConfigError, match="code LA"):
        parse_team_table("nfl", doc)


def test_overrides_parse_and_reload(tmp_path: Path) -> None:
    doc = {
        "pairs": [{"ticker": "T-1", "odds_event_id": "e", "market_key": "spreads", "outcome": "X", "point": -2.5}],
        "blocks": [{"event_ticker": "E-1", "reason": "postponed"}],
    }
    o = parse_overrides(doc)
    assert o.pairs["T-1"].point == Decimal("-2.5") and o.pairs["T-1"].market_key is MarketKind.SPREAD
    assert o.block_reason("E-1-A", "E-1") == "postponed"
    with pytest.raises(ConfigError):
        parse_overrides({"pairs": [{"ticker": "T", "odds_event_id": "e", "market_key": "totals", "outcome": "Over"}]})

    path = tmp_path / "overrides.json"
    source = OverridesFile(path)
    assert source.current().pairs == {}
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert "T-1" in source.current().pairs
    path.write_text("{not json", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert "T-1" in source.current().pairs, "a bad edit keeps the last good overrides"
    assert source.last_error is not None
    path.write_text(json.dumps({"blocks": [{"ticker": "T-2"}]}), encoding="utf-8")
    os.utime(path, ns=(2, 2))
    assert source.current().blocked_tickers == {"T-2": "blocked by operator"}
    assert source.last_error is None
