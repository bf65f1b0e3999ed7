"""``bench_mapping()``: how long the resolver takes for a realistic board (2,000 markets, 1,000 events).

Synthetic but shaped like the real thing: four major leagues with their real team tables, one game per
team per day, both winner markets of every game, the Odds API listing the same games.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

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


def bench_mapping() -> dict[str, float]:
    """Timings in milliseconds for mapping 2,000 Kalshi markets against 1,000 Odds API events.

    ``resolve_ms`` is the first pass over a board; ``resolve_repeat_ms`` the next pass over the same board
    (name folding and rules parsing are memoised, as in a running engine that re-maps every poll).
    """
    t0 = time.perf_counter()
    markets, events = synthetic_board(1000)
    t1 = time.perf_counter()
    result = resolve(markets, events)
    t2 = time.perf_counter()
    resolve(markets, events)
    t3 = time.perf_counter()
    groups = winner_groups(markets)
    t4 = time.perf_counter()
    return {
        "markets": float(len(markets)),
        "events": float(len(events)),
        "matched": float(len(result.matches)),
        "generate_ms": (t1 - t0) * 1000.0,
        "resolve_ms": (t2 - t1) * 1000.0,
        "resolve_repeat_ms": (t3 - t2) * 1000.0,
        "winner_groups_ms": (t4 - t3) * 1000.0,
        "groups": float(len(groups)),
    }
