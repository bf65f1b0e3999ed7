"""What a mapping decision produces: the contract between the resolver and detection."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class MarketKind(StrEnum):
    """The Odds API market key a Kalshi market is priced against."""

    WINNER = "h2h"
    SPREAD = "spreads"
    TOTAL = "totals"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One signal that supported (or weakened) a match, kept for display and audit."""

    signal: str  # e.g. "ticker_codes", "date", "team_table", "rules_text", "fuzzy_name"
    score: float  # 0..1 contribution
    detail: str


@dataclass(frozen=True, slots=True)
class MarketMatch:
    """Kalshi ``ticker`` pays YES exactly when Odds API ``outcome`` (at ``point``) of ``market_key`` wins.

    For spreads, ``outcome`` is the team named by the Kalshi market and ``point`` is the Odds API
    handicap of that team (``-floor_strike``); for totals, ``outcome`` is ``Over`` and ``point`` is
    ``floor_strike``; for winners ``point`` is None and ``outcome`` is the team name or ``Draw``.
    """

    ticker: str
    event_ticker: str
    odds_event_id: str
    market_key: MarketKind
    outcome: str
    point: Decimal | None = None
    confidence: float = 1.0
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Unmatched:
    ticker: str
    reason: str


@dataclass(frozen=True, slots=True)
class MappingResult:
    matches: dict[str, MarketMatch]
    unmatched: tuple[Unmatched, ...] = ()
