"""``bench_mapping()``: how long the resolver takes for a realistic board (2,000 markets, 1,000 events).

Synthetic but shaped like the real thing: four major leagues with their real team tables, one game per
team per day, both winner markets of every game, the Odds API listing the same games.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.bench.stats import MIN_REPEAT, environment, timed
from engine.mapping.games import EASTERN
from engine.mapping.resolver import resolve, winner_groups
from engine.mapping.teams import LEAGUES, league_teams
from engine.markets.kalshi import KalshiMarket
from engine.markets.odds import OddsEvent

_LEAGUES = ("nfl", "nba", "mlb", "nhl")


def synthetic_board(games: int = 1000, seed: int = 7) -> tuple[list[KalshiMarket], list[OddsEvent]]:
    """``games`` games split over the four major leagues: 2 Kalshi winner markets and 1 Odds API event each."""
    rng = random.Random(seed)
    base = datetime(2026, 10, 1, 23, 0, tzinfo=UTC)
    markets: list[KalshiMarket] = []
    events: list[OddsEvent] = []
    for n in range(games):
        key = _LEAGUES[n % len(_LEAGUES)]
        league = LEAGUES[key]
        teams = list(league_teams(key))
        j = n // len(_LEAGUES)
        per_day = len(teams) // 2
        day, slot = divmod(j, per_day)
        order = list(range(len(teams)))
        random.Random(day * 31 + n % len(_LEAGUES)).shuffle(order)
        away, home = teams[order[2 * slot]], teams[order[2 * slot + 1]]
        start = base + timedelta(days=day, minutes=rng.choice((0, 30, 60, 90, 120, 180)))
        event_ticker = f"{league.winner_series}-{start.astimezone(EASTERN):%y%b%d}".upper() + away.code + home.code
        for team in (away, home):
            markets.append(
                KalshiMarket(
                    ticker=f"{event_ticker}-{team.code}",
                    event_ticker=event_ticker,
                    status="active",
                    title=f"{team.kalshi_name} wins",
                    yes_sub_title=team.kalshi_name,
                    no_sub_title=team.kalshi_name,
                    rules_primary=(
                        f"If {team.kalshi_name} wins the {away.kalshi_name} vs {home.kalshi_name} game originally "
                        f"scheduled for {start.astimezone(EASTERN):%b} {start.astimezone(EASTERN).day}, "
                        f"{start.year}, then the market resolves to Yes."
                    ),
                )
            )
        events.append(OddsEvent(f"ev{n:05d}", league.sport_key, start, home.odds_name, away.odds_name))
    return markets, events


_SYLLABLES = ("bel", "cor", "dan", "fal", "gar", "hol", "kin", "lor", "mar", "nor", "pel", "quin", "ros", "sal", "tor")
_MASCOTS = ("Hawks", "Lions", "Rams", "Owls", "Bears", "Comets", "Pilots", "Rockets", "Knights", "Storm")


def synthetic_college_board(games: int, seed: int = 11) -> tuple[list[KalshiMarket], list[OddsEvent]]:
    """College football games between schools that are in no team table: names go through batch fuzzy scoring."""
    rng = random.Random(seed)
    base = datetime(2026, 9, 5, 16, 0, tzinfo=UTC)
    schools = [(a + b).capitalize() for a in _SYLLABLES for b in _SYLLABLES if a != b]
    rng.shuffle(schools)
    markets: list[KalshiMarket] = []
    events: list[OddsEvent] = []
    per_day = len(schools) // 2
    for n in range(games):
        day, slot = divmod(n, per_day)
        away, home = schools[2 * slot], schools[2 * slot + 1]
        codes = {away: away.upper(), home: home.upper()}
        start = base + timedelta(days=7 * day, minutes=30 * (slot % 8))
        local = start.astimezone(EASTERN)
        event_ticker = f"KXNCAAFGAME-{local:%y%b%d}".upper() + codes[away] + codes[home]
        for school in (away, home):
            markets.append(
                KalshiMarket(
                    ticker=f"{event_ticker}-{codes[school]}",
                    event_ticker=event_ticker,
                    status="active",
                    title=f"Will {school} win the {away} vs {home} college football game?",
                    rules_primary=(
                        f"If {school} wins the {away} at {home} college football game originally scheduled for "
                        f"{local:%b} {local.day}, {local.year}, then the market resolves to Yes."
                    ),
                )
            )
        mascot = _MASCOTS[n % len(_MASCOTS)]
        events.append(
            OddsEvent(
                f"cf{n:05d}", "americanfootball_ncaaf", start, f"{home} {mascot}", f"{away} {_MASCOTS[-1 - n % 9]}"
            )
        )
    return markets, events


_STATIC = frozenset({"engine.mapping.teams.league_teams"})
"""Memos a cold pass keeps: the team tables as read from their data files (static data, loaded once)."""


def _memos() -> list[Any]:
    """Every memoised function of the mapping package (by its ``cache_clear``), except :data:`_STATIC`."""
    found: dict[int, Any] = {}
    package = importlib.import_module("engine.mapping")
    for info in pkgutil.iter_modules(package.__path__, "engine.mapping."):
        for value in vars(importlib.import_module(info.name)).values():
            name = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
            if callable(getattr(value, "cache_clear", None)) and name not in _STATIC:
                found[id(value)] = value
    return list(found.values())


def forget_memos() -> None:
    """Empty the mapping's memo caches, so the next ``resolve`` is as cold as a new process's first (the team
    tables stay loaded: they are static data)."""
    for memo in _memos():
        memo.cache_clear()


def bench_mapping(repeat: int = MIN_REPEAT) -> dict[str, Any]:
    """Timings in milliseconds for mapping 2,000 Kalshi markets against 1,000 Odds API events.

    ``resolve_cold_ms``: a pass with the memo caches emptied first, as a new process's first pass over a
    board of the four major leagues (team tables); ``resolve_warm_ms``: the next pass over the same board
    (name folding and rules parsing are memoised, as in a running engine that re-maps every poll);
    ``resolve_mixed_cold_ms``: a cold pass over a board where 200 of the 1,000 games are college games
    between teams in no table, so their names go through one rapidfuzz ``cdist`` batch.
    """
    markets, events = synthetic_board(1000)
    pro_markets, pro_events = synthetic_board(800)
    college_markets, college_events = synthetic_college_board(200)
    mixed_markets, mixed_events = pro_markets + college_markets, pro_events + college_events
    result = resolve(markets, events)
    mixed = resolve(mixed_markets, mixed_events)
    return {
        "environment": environment(),
        "markets": len(markets),
        "events": len(events),
        "matched": len(result.matches),
        "mixed_matched": len(mixed.matches),
        "resolve_cold_ms": timed(lambda: resolve(markets, events), repeat, setup=forget_memos),
        "resolve_warm_ms": timed(lambda: resolve(markets, events), repeat),
        "winner_groups_ms": timed(lambda: winner_groups(markets), repeat),
        "resolve_mixed_cold_ms": timed(lambda: resolve(mixed_markets, mixed_events), repeat, setup=forget_memos),
    }
