"""The Odds API side of the simulator: sportsbook quotes per game and the account's credit quota.

Each of four US books quotes american odds around the game's hidden probability with its own vig and
noise; a stale book keeps an old quote and an old ``last_update``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from engine.sim.board import Board, Game

BOOK_TITLES = {
    "draftkings": "DraftKings",
    "fanduel": "FanDuel",
    "betmgm": "BetMGM",
    "williamhill_us": "Caesars",
}
BOOK_VIG = {"draftkings": 0.045, "fanduel": 0.042, "betmgm": 0.05, "williamhill_us": 0.048}
SPORT_META = {
    "americanfootball_nfl": ("American Football", "NFL", "US Football"),
    "basketball_nba": ("Basketball", "NBA", "US Basketball"),
    "baseball_mlb": ("Baseball", "MLB", "Major League Baseball"),
    "icehockey_nhl": ("Ice Hockey", "NHL", "US Ice Hockey"),
}
SPREAD_STEP = {"nfl": 3.5, "nba": 5.5, "mlb": 1.5, "nhl": 1.5}
TOTAL_LINE = {"nfl": 44.5, "nba": 224.5, "mlb": 8.5, "nhl": 6.5}


def american(probability: float) -> int:
    """The american price whose implied probability is ``probability`` (rounded to a whole number)."""
    p = min(max(probability, 0.01), 0.99)
    decimal_odds = 1.0 / p
    if decimal_odds >= 2.0:
        return round((decimal_odds - 1.0) * 100)
    return -round(100.0 / (decimal_odds - 1.0))


@dataclass(slots=True)
class BookQuote:
    """One book's view of one game: its implied (vigged) probabilities and when it last changed."""

    home_implied: float
    away_implied: float
    last_update: datetime
    stale: bool = False


@dataclass(slots=True)
class OddsState:
    board: Board
    bookmakers: tuple[str, ...]
    credits_remaining: int
    credits_used: int = 0
    quotes: dict[tuple[str, str], BookQuote] = field(default_factory=dict)
    results: dict[str, tuple[int, int, datetime]] = field(default_factory=dict)
    """Final (away, home) scores of finished games by Odds API id, and when they were recorded."""

    def set_quote(self, game: Game, book: str, fair_home: float, now: datetime, *, stale: bool = False) -> None:
        """Quote ``fair_home`` with the book's vig; a stale book keeps its previous quote and time."""
        key = (game.odds_id, book)
        previous = self.quotes.get(key)
        if stale and previous is not None:
            previous.stale = True
            return
        vig = BOOK_VIG.get(book, 0.045)
        self.quotes[key] = BookQuote(fair_home * (1 + vig), (1 - fair_home) * (1 + vig), now)

    def quote(self, game: Game, book: str) -> BookQuote | None:
        return self.quotes.get((game.odds_id, book))

    def charge(self, cost: int) -> bool:
        """Spend ``cost`` credits; False (nothing spent) when the quota cannot cover it."""
        if cost > self.credits_remaining:
            return False
        self.credits_remaining -= cost
        self.credits_used += cost
        return True


def spread_point(game: Game, home_implied: float) -> float:
    """The home team's handicap: the favourite gives points, in half-point steps."""
    step = SPREAD_STEP[game.league]
    return -step if home_implied >= 0.5 else step


def total_line(game: Game) -> float:
    return TOTAL_LINE[game.league]


def vig_pair(vig: float) -> tuple[int, int]:
    """A symmetric -110 style pair for a line market quoted at even money plus ``vig``."""
    price = american(0.5 * (1 + vig))
    return price, price
