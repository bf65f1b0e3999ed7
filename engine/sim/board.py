"""The generated sports board: game-winner events for the configured leagues, with real ticker grammar.

Pure and seeded: the same seed and ``now`` give the same games, tickers, Odds API ids and hidden
probabilities. Team codes and names come from the mapping team tables, so the board exercises the same
resolver a live board would.

Only boards a real exchange would list: one pair plays at most once per US-Eastern day, except baseball's
doubleheaders (two games, same home team, hours apart, ``G1``/``G2`` by start order as Kalshi writes them);
every ticker and Odds API id names one game, and each game's Kalshi times (ticker date and time, rules date,
``occurrence_datetime``) come from the same start as its sportsbook ``commence_time``. A crowded board
moves a game that would break this to a later day instead.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from engine.errors import ConfigError
from engine.mapping.teams import LEAGUES, League, Team, league_teams
from engine.pricing.fees import FeeSchedule, FeeType

EASTERN = ZoneInfo("America/New_York")

COMPETITION = {"nfl": "Pro Football", "nba": "Pro Basketball", "mlb": "Pro Baseball", "nhl": "Pro Hockey"}
RULES_SPORT = {
    "nfl": "professional football",
    "nba": "professional basketball",
    "mlb": "professional baseball",
    "nhl": "NHL",
}
EXCHANGE_INDEX = {"mlb": 3}
"""Exchange shard of each league's markets (exchange_sharding.md: baseball on shard 3); others on shard 0."""
SERIES_FEES = {
    "nfl": FeeSchedule(FeeType.QUADRATIC, Decimal(1)),
    "nba": FeeSchedule(FeeType.QUADRATIC_WITH_MAKER_FEES, Decimal(1)),
    "mlb": FeeSchedule(FeeType.QUADRATIC, Decimal(1)),
    "nhl": FeeSchedule(FeeType.QUADRATIC_WITH_MAKER_FEES, Decimal("0.5")),
}


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    ticker: str
    league: str
    title: str
    fees: FeeSchedule


@dataclass(frozen=True, slots=True)
class Game:
    """One game: an event with two winner markets (away, home) and its Odds API twin."""

    league: str
    sport_key: str
    series_ticker: str
    event_ticker: str
    odds_id: str
    away: Team
    home: Team
    commence: datetime
    true_home: float
    """Hidden probability the home team wins at generation time; the scenario walks it."""

    @property
    def away_ticker(self) -> str:
        return f"{self.event_ticker}-{self.away.code}"

    @property
    def home_ticker(self) -> str:
        return f"{self.event_ticker}-{self.home.code}"

    @property
    def tickers(self) -> tuple[str, str]:
        return (self.away_ticker, self.home_ticker)

    def team_of(self, ticker: str) -> Team:
        return self.home if ticker == self.home_ticker else self.away


@dataclass(frozen=True, slots=True)
class Board:
    series: tuple[SeriesSpec, ...]
    games: tuple[Game, ...]

    def game_of(self, ticker: str) -> Game | None:
        for game in self.games:
            if ticker in game.tickers or ticker == game.event_ticker:
                return game
        return None

    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(t for g in self.games for t in g.tickers)


def league_info(league: str) -> League:
    key = league.lower()
    if key not in COMPETITION or key not in LEAGUES:
        raise ConfigError(f"the simulator generates NFL, NBA, MLB and NHL boards, not {league!r}")
    return LEAGUES[key]


def event_ticker(series: str, league: str, away: Team, home: Team, commence: datetime, game_no: int = 0) -> str:
    """``SERIES-YYMONDD[HHMM]<AWAY><HOME>``: the US-Eastern date; MLB also carries the Eastern start time."""
    local = commence.astimezone(EASTERN)
    stamp = local.strftime("%y%b%d").upper()
    if league == "mlb":
        stamp += local.strftime("%H%M")
    suffix = f"G{game_no}" if game_no else ""
    return f"{series}-{stamp}{away.code}{home.code}{suffix}"


START_SLOTS = {
    "nfl": ((13, 0), (16, 25), (20, 15)),
    "nba": ((19, 0), (19, 30), (20, 0), (22, 0)),
    "mlb": ((13, 5), (19, 5), (19, 10), (21, 40)),
    "nhl": ((19, 0), (19, 30), (22, 0)),
}


def _start_time(rng: random.Random, league: str, earliest: datetime) -> datetime:
    """A usual US-Eastern start slot of the league on one of the next few days, after ``earliest``."""
    day = earliest.astimezone(EASTERN).date() + timedelta(days=rng.randrange(0, 3))
    hour, minute = rng.choice(START_SLOTS[league])
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=EASTERN).astimezone(UTC)
    while start < earliest:
        start += timedelta(days=1)
    return start


def _odds_id(seed: int, ticker: str) -> str:
    return hashlib.md5(f"{seed}:{ticker}".encode(), usedforsecurity=False).hexdigest()


DOUBLEHEADER_GAP = timedelta(hours=4)
"""The two games of a generated doubleheader start at least this far apart (a 13:05 and an evening slot)."""


@dataclass(frozen=True, slots=True)
class _Slot:
    """A game placed on the calendar, before its ticker (a doubleheader's number depends on its sibling)."""

    info: League
    away: Team
    home: Team
    commence: datetime
    true_home: float


def _day_key(slot: _Slot) -> tuple[str, frozenset[str], date]:
    return (slot.info.key, frozenset((slot.away.code, slot.home.code)), slot.commence.astimezone(EASTERN).date())


def _fits(slot: _Slot, same_day: list[_Slot]) -> bool:
    """May ``slot`` join the games its pair already plays that Eastern day? Only as game 2 of a baseball
    doubleheader: same home team, hours apart."""
    if not same_day:
        return True
    if not slot.info.doubleheaders or len(same_day) > 1:
        return False
    other = same_day[0]
    return other.home is slot.home and abs(other.commence - slot.commence) >= DOUBLEHEADER_GAP


def _next_day(moment: datetime) -> datetime:
    """The same Eastern wall-clock time one day later (a DST change does not shift the slot)."""
    local = moment.astimezone(EASTERN)
    later = datetime.combine(local.date() + timedelta(days=1), local.time(), EASTERN)
    return later.astimezone(UTC)


def _tickers(slots: list[_Slot]) -> list[str]:
    """Each slot's event ticker: ``G1``/``G2`` by start order on both games of a doubleheader."""
    by_day: dict[tuple[str, frozenset[str], date], list[_Slot]] = {}
    for slot in slots:
        by_day.setdefault(_day_key(slot), []).append(slot)
    out: list[str] = []
    for slot in slots:
        pair = by_day[_day_key(slot)]
        number = 0
        if len(pair) == 2:
            number = 1 + sorted(pair, key=lambda s: s.commence).index(slot)
        info = slot.info
        out.append(event_ticker(info.winner_series, info.key, slot.away, slot.home, slot.commence, number))
    return out


def generate_board(seed: int, games: int, leagues: tuple[str, ...], now: datetime) -> Board:
    """``games`` games spread round-robin over ``leagues``, starting between 1 hour and 3 days after ``now``
    (later on a board too crowded for its pairs to meet at most once a day)."""
    rng = random.Random(seed)
    infos = [league_info(lg) for lg in leagues]
    series = tuple(
        SeriesSpec(i.winner_series, i.key, f"Professional {COMPETITION[i.key].split()[1]} Game", SERIES_FEES[i.key])
        for i in infos
    )
    used: dict[str, set[str]] = {i.key: set() for i in infos}
    slots: list[_Slot] = []
    by_day: dict[tuple[str, frozenset[str], date], list[_Slot]] = {}
    base_tickers: set[str] = set()
    earliest = now + timedelta(hours=1)
    for n in range(games):
        info = infos[n % len(infos)]
        teams = list(league_teams(info.key))
        if len(teams) < 2:
            raise ConfigError(f"no team table for {info.key}")
        free = [t for t in teams if t.code not in used[info.key]]
        if len(free) < 2:
            used[info.key].clear()
            free = teams
        away, home = rng.sample(free, 2)
        used[info.key].update((away.code, home.code))
        commence = _start_time(rng, info.key, earliest)
        slot = _Slot(info, away, home, commence, round(rng.uniform(0.25, 0.75), 4))
        # Two pairs' codes can spell one ticker (``NJ``+``SJ``-style): a ticker must still name one game.
        while not _fits(slot, by_day.get(_day_key(slot), [])) or _base_ticker(slot) in base_tickers:
            slot = _Slot(info, away, home, _next_day(slot.commence), slot.true_home)
        by_day.setdefault(_day_key(slot), []).append(slot)
        base_tickers.add(_base_ticker(slot))
        slots.append(slot)
    out = [
        Game(
            league=slot.info.key,
            sport_key=slot.info.sport_key,
            series_ticker=slot.info.winner_series,
            event_ticker=ticker,
            odds_id=_odds_id(seed, ticker),
            away=slot.away,
            home=slot.home,
            commence=slot.commence,
            true_home=slot.true_home,
        )
        for slot, ticker in zip(slots, _tickers(slots), strict=True)
    ]
    out.sort(key=lambda g: (g.commence, g.event_ticker))
    return Board(series, tuple(out))


def _base_ticker(slot: _Slot) -> str:
    """The event ticker without a doubleheader number (MLB's carries the start time, so both games differ)."""
    return event_ticker(slot.info.winner_series, slot.info.key, slot.away, slot.home, slot.commence)
