"""What a simulator run is made of: seed, ports, board size, limits and timing knobs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

LEAGUES: tuple[str, ...] = ("NFL", "NBA", "MLB", "NHL")
BOOKMAKERS: tuple[str, ...] = ("draftkings", "fanduel", "betmgm", "williamhill_us")


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything that shapes one simulator run; the same seed gives the same board and the same walk."""

    seed: int = 1
    host: str = "127.0.0.1"
    kalshi_port: int = 0
    odds_port: int = 0
    markets: int = 48
    """Kalshi winner markets to generate (two per game, spread round-robin over the leagues)."""
    leagues: tuple[str, ...] = LEAGUES
    bookmakers: tuple[str, ...] = BOOKMAKERS
    starting_balance: Decimal = Decimal("10000.00")
    odds_credits: int = 500
    """The Odds API quota the sim account starts with."""
    rate_limits: bool = True
    read_rate: float = 200.0
    """Basic tier: 200 read tokens per second, bucket holding two seconds."""
    read_capacity: float = 400.0
    write_rate: float = 100.0
    """Basic tier: 100 write tokens per second, bucket holding one second."""
    write_capacity: float = 100.0
    odds_rate: float = 30.0
    """The Odds API answers EXCEEDED_FREQ_LIMIT beyond about 30 calls per second."""
    signature_window_s: float = 10.0
    """A signed request whose timestamp is further than this from the server clock is stale (401)."""
    ws_ping_interval_s: float = 10.0
    """Kalshi pings every 10 seconds with body ``heartbeat``."""
    mispricing_rate: float = 0.15
    """Chance per game and step that a Kalshi market is quoted off the fair price (some become real arbs)."""
    stale_book_rate: float = 0.1
    """Chance per game and bookmaker that its quote is left old (an old ``last_update``)."""
