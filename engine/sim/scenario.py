"""The scenario engine: a hidden win probability per game doing a seeded random walk, Kalshi books
quoted around it (sometimes mispriced, so some real arbitrages appear) and sportsbooks quoting it with
vig and noise (sometimes left stale).

``step`` is the only thing that moves prices, so tests are repeatable: same seed, same steps, same books.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from engine.money import CENT, ONE, ceil_to, floor_to
from engine.sim.board import Board, Game
from engine.sim.config import SimConfig
from engine.sim.exchange import Exchange
from engine.sim.odds_state import OddsState

LEVELS = 5
MIN_PRICE = Decimal("0.01")
MAX_PRICE = Decimal("0.99")


def _clamp(price: Decimal) -> Decimal:
    return min(max(price, MIN_PRICE), MAX_PRICE)


@dataclass(frozen=True, slots=True)
class Mispricing:
    """Where the scenario quoted Kalshi off the fair price on the last step, and by how much (YES price)."""

    ticker: str
    shift: Decimal


@dataclass(slots=True)
class Scenario:
    config: SimConfig
    board: Board
    exchange: Exchange
    odds: OddsState
    clock: Callable[[], datetime]
    rng: random.Random = field(init=False)
    true_home: dict[str, float] = field(init=False)
    steps: int = 0
    mispricings: list[Mispricing] = field(default_factory=list)
    stale_until: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed * 7919 + 17)
        self.true_home = {g.event_ticker: g.true_home for g in self.board.games}

    def probability(self, ticker: str) -> float:
        """The hidden fair YES probability of a Kalshi winner market (for tests and demos)."""
        game = self.board.game_of(ticker)
        if game is None:
            raise KeyError(ticker)
        p = self.true_home[game.event_ticker]
        return p if ticker == game.home_ticker else 1.0 - p

    def quote_all(self) -> None:
        """Quote every market and book from the current hidden probabilities."""
        now = self.clock()
        self.exchange.expire_orders(now)
        self.mispricings = []
        for game in self.board.games:
            self._quote_game(game, now, initial=self.steps == 0)

    async def step(self) -> None:
        """Move every game's probability one random-walk step and requote both venues."""
        self.steps += 1
        for game in self.board.games:
            p = self.true_home[game.event_ticker] + self.rng.gauss(0.0, 0.01)
            self.true_home[game.event_ticker] = min(max(p, 0.05), 0.95)
        self.quote_all()

    def finish_game(self, event_ticker: str, home_wins: bool | None = None) -> tuple[int, int]:
        """End a game: draw the winner from the hidden probability (unless told), settle both Kalshi
        markets and post the final score to the Odds API scores. Returns (away, home) points."""
        game = next((g for g in self.board.games if g.event_ticker == event_ticker), None)
        if game is None:
            raise KeyError(event_ticker)
        if home_wins is None:
            home_wins = self.rng.random() < self.true_home[event_ticker]
        loser = self.rng.randint(0, 5)
        winner = loser + self.rng.randint(1, 7)
        away, home = (loser, winner) if home_wins else (winner, loser)
        now = self.clock()
        self.exchange.settle(game.home_ticker, "yes" if home_wins else "no", now)
        self.exchange.settle(game.away_ticker, "no" if home_wins else "yes", now)
        self.odds.results[game.odds_id] = (away, home, now)
        return away, home

    def _quote_game(self, game: Game, now: datetime, *, initial: bool) -> None:
        p = self.true_home[game.event_ticker]
        shift_ticker = None
        shift = Decimal(0)
        if self.rng.random() < self.config.mispricing_rate:
            shift_ticker = self.rng.choice(game.tickers)
            shift = Decimal(self.rng.choice((-8, -6, -5, -4, 4, 5, 6))) * CENT
            self.mispricings.append(Mispricing(shift_ticker, shift))
        for ticker in game.tickers:
            if self.exchange.markets[ticker].status != "active":
                continue
            fair = Decimal(repr(round(p if ticker == game.home_ticker else 1.0 - p, 4)))
            if ticker == shift_ticker:
                fair += shift
            half = CENT * self.rng.choice((1, 1, 2))
            best_bid = _clamp(floor_to(fair - half, CENT))
            best_ask = _clamp(ceil_to(fair + half, CENT))
            if best_ask <= best_bid:
                best_ask = best_bid + CENT
            yes_levels = [
                (best_bid - CENT * i, Decimal(self.rng.randrange(5, 50) * 10))
                for i in range(LEVELS)
                if best_bid - CENT * i >= MIN_PRICE
            ]
            no_best = ONE - best_ask
            no_levels = [
                (no_best - CENT * i, Decimal(self.rng.randrange(5, 50) * 10))
                for i in range(LEVELS)
                if no_best - CENT * i >= MIN_PRICE
            ]
            self.exchange.quote_house(ticker, yes_levels, no_levels, now)
        for book in self.odds.bookmakers:
            noisy = min(max(p + self.rng.gauss(0.0, 0.01), 0.02), 0.98)
            key = (game.odds_id, book)
            if self.steps >= self.stale_until.get(key, 0) and self.rng.random() < self.config.stale_book_rate:
                # this book stops updating for a few steps: its quote and last_update age
                self.stale_until[key] = self.steps + self.rng.randint(3, 10)
            stale = self.steps < self.stale_until.get(key, 0)
            if initial:
                age = timedelta(minutes=self.rng.randint(10, 30)) if stale else timedelta(0)
                self.odds.set_quote(game, book, noisy, now - age)
            else:
                self.odds.set_quote(game, book, noisy, now, stale=stale)
