"""Team tables per league and the league registry (series prefixes, Odds API sport key).

The tables are data files (``data/<league>.json``), not code, so a renamed or relocated team is a one-line
data change. Each team carries its current Kalshi code, the codes Kalshi used in earlier seasons, the short
name Kalshi prints, the Odds API's full name and other names seen for it (former names, common aliases).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from engine.errors import ConfigError
from engine.mapping.names import fold


@dataclass(frozen=True, slots=True)
class Team:
    """One team of one league. ``aliases`` are other Kalshi codes it has had (``LA`` for the Rams in 2025)."""

    code: str
    aliases: tuple[str, ...]
    kalshi_name: str
    odds_name: str
    names: tuple[str, ...] = ()

    codes: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """Current and former Kalshi codes; empty for a name-only college entry whose code was never seen."""
    all_names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """Every name this team is known by, Odds API name first."""
    folded_names: frozenset[str] = field(init=False, repr=False, compare=False)
    """``all_names`` folded (see ``names.fold``): precomputed because every comparison needs them."""

    def __post_init__(self) -> None:
        all_names = (self.odds_name, self.kalshi_name, *self.names)
        object.__setattr__(self, "codes", tuple(c for c in (self.code, *self.aliases) if c))
        object.__setattr__(self, "all_names", all_names)
        object.__setattr__(self, "folded_names", frozenset(fold(n) for n in all_names))


@dataclass(frozen=True, slots=True)
class League:
    """How one league appears on both venues.

    ``home_first``: soccer tickers list HOME then AWAY; US leagues list AWAY then HOME.
    ``three_way``: winner events have a ``-TIE`` market (draw after 90 minutes plus stoppage time).
    ``college``: team tables are partial, so names not in the table are compared by fuzzy matching.
    ``doubleheaders``: two games of one pair on one day exist, numbered ``G1``/``G2`` in the ticker (baseball
    only: elsewhere a game number in a ticker is not Kalshi's grammar).
    """

    key: str
    sport_key: str
    winner_series: str
    spread_series: str
    total_series: str
    home_first: bool = False
    three_way: bool = False
    college: bool = False
    doubleheaders: bool = False

    @property
    def series_prefixes(self) -> tuple[str, str, str]:
        return (self.winner_series, self.spread_series, self.total_series)


def _league(key: str, sport_key: str, stem: str, **flags: bool) -> League:
    return League(key, sport_key, f"KX{stem}GAME", f"KX{stem}SPREAD", f"KX{stem}TOTAL", **flags)


_SOCCER = {"home_first": True, "three_way": True}

LEAGUES: dict[str, League] = {
    "nfl": _league("nfl", "americanfootball_nfl", "NFL"),
    "nba": _league("nba", "basketball_nba", "NBA"),
    "mlb": _league("mlb", "baseball_mlb", "MLB", doubleheaders=True),
    "nhl": _league("nhl", "icehockey_nhl", "NHL"),
    "wnba": _league("wnba", "basketball_wnba", "WNBA"),
    "ncaaf": _league("ncaaf", "americanfootball_ncaaf", "NCAAF", college=True),
    "ncaamb": _league("ncaamb", "basketball_ncaab", "NCAAMB", college=True),
    "epl": _league("epl", "soccer_epl", "EPL", **_SOCCER),
    "mls": _league("mls", "soccer_usa_mls", "MLS", **_SOCCER),
    "laliga": _league("laliga", "soccer_spain_la_liga", "LALIGA", **_SOCCER),
    "seriea": _league("seriea", "soccer_italy_serie_a", "SERIEA", **_SOCCER),
    "bundesliga": _league("bundesliga", "soccer_germany_bundesliga", "BUNDESLIGA", **_SOCCER),
    "ligue1": _league("ligue1", "soccer_france_ligue_one", "LIGUE1", **_SOCCER),
    "ucl": _league("ucl", "soccer_uefa_champs_league", "UCL", **_SOCCER),
}

_BY_SERIES: dict[str, tuple[League, str]] = {}
for _lg in LEAGUES.values():
    _BY_SERIES[_lg.winner_series] = (_lg, "winner")
    _BY_SERIES[_lg.spread_series] = (_lg, "spread")
    _BY_SERIES[_lg.total_series] = (_lg, "total")


def league_of_series(series_ticker: str) -> tuple[League, str] | None:
    """``KXNFLSPREAD`` -> (NFL, "spread"). Exact series only: ``KXLALIGA2GAME`` (second division) is not La Liga."""
    return _BY_SERIES.get(series_ticker)


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise ConfigError(f"team table {where}: expected a list of non-empty strings")
    return tuple(raw)


def _team(raw: Any, where: str) -> Team:
    if not isinstance(raw, dict):
        raise ConfigError(f"team table {where}: expected an object")
    code = raw.get("code", "")
    if not isinstance(code, str):
        raise ConfigError(f"team table {where}.code: expected a string")
    fields: dict[str, str] = {"code": code}
    for name in ("kalshi_name", "odds_name"):
        value = raw.get(name)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"team table {where}.{name}: missing or empty")
        fields[name] = value
    return Team(
        code=fields["code"],
        aliases=_strings(raw.get("aliases"), f"{where}.aliases"),
        kalshi_name=fields["kalshi_name"],
        odds_name=fields["odds_name"],
        names=_strings(raw.get("names"), f"{where}.names"),
    )


def parse_team_table(league: str, doc: Any) -> tuple[Team, ...]:
    """Validate a table: every code (current or former) and every Odds API name must be unique in the league,
    otherwise a code could silently resolve to two teams."""
    if not isinstance(doc, dict) or not isinstance(doc.get("teams"), list):
        raise ConfigError(f"team table {league}: expected an object with a 'teams' array")
    teams = tuple(_team(t, f"{league}.teams[{i}]") for i, t in enumerate(doc["teams"]))
    seen_codes: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for team in teams:
        for code in team.codes:
            if code in seen_codes:
                raise ConfigError(f"team table {league}: code {code} used by {seen_codes[code]} and {team.odds_name}")
            seen_codes[code] = team.odds_name
        key = fold(team.odds_name)
        if key in seen_names:
            raise ConfigError(f"team table {league}: Odds API name {team.odds_name!r} appears twice")
        seen_names[key] = team.odds_name
    return teams


@cache
def league_teams(league: str) -> tuple[Team, ...]:
    """The team table of ``league`` (a key of ``LEAGUES``); empty when no table ships for it."""
    if league not in LEAGUES:
        raise ConfigError(f"unknown league {league!r}; known: {', '.join(sorted(LEAGUES))}")
    path = resources.files("engine.mapping").joinpath("data", f"{league}.json")
    if not path.is_file():
        return ()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"team table {league}: cannot read {path}: {exc}") from None
    return parse_team_table(league, doc)


@dataclass(frozen=True, slots=True)
class TeamIndex:
    """Lookups over one league's table: by Kalshi code (current or former) and by folded name."""

    by_code: dict[str, Team]
    by_name: dict[str, Team]

    def code(self, code: str) -> Team | None:
        return self.by_code.get(code.upper().replace("-", ""))

    def name(self, name: str) -> Team | None:
        return self.by_name.get(fold(name))


@cache
def team_index(league: str) -> TeamIndex:
    teams = league_teams(league)
    by_code: dict[str, Team] = {}
    by_name: dict[str, Team] = {}
    ambiguous: set[str] = set()
    for team in teams:
        for code in team.codes:
            by_code[code.replace("-", "")] = team
        for key in team.folded_names:  # = fold of each of all_names
            if key in by_name and by_name[key] is not team:
                ambiguous.add(key)
            by_name[key] = team
    # A short name two teams share (MLS "New York") must never pick one of them.
    for key in ambiguous:
        del by_name[key]
    return TeamIndex(by_code, by_name)


__all__ = [
    "LEAGUES",
    "League",
    "Team",
    "TeamIndex",
    "league_of_series",
    "league_teams",
    "parse_team_table",
    "team_index",
]
