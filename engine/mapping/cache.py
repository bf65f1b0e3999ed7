"""A mapping pass that remembers: overrides re-read each pass, automatic matches cached with evidence.

The cache serves two purposes. Display and audit: every automatic match is kept with its evidence and when
it was first and last seen. Safety: an automatic match that changes its answer for the same ticker (a new
event id, the other team, another line) is suspicious — a second game appeared, a feed renamed a team —
so the market is unmatched with both answers in the reason until an operator confirms one with an
override or calls :meth:`Mapper.forget`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.mapping.overrides import Overrides, OverridesFile
from engine.mapping.resolver import resolve
from engine.mapping.types import MappingResult, MarketMatch, Unmatched
from engine.markets.kalshi import KalshiMarket
from engine.markets.odds import OddsEvent


@dataclass(frozen=True, slots=True)
class CachedMatch:
    match: MarketMatch
    first_seen: datetime
    last_seen: datetime


def _answer(match: MarketMatch) -> tuple[str, str, str, str]:
    return (match.odds_event_id, match.market_key.value, match.outcome, str(match.point))


class Mapper:
    """Runs :func:`resolve` with the newest overrides and keeps automatic matches between passes."""

    def __init__(self, overrides: OverridesFile | None = None) -> None:
        self._source = overrides
        self._cache: dict[str, CachedMatch] = {}

    def overrides(self) -> Overrides:
        return self._source.current() if self._source is not None else Overrides()

    def map(self, markets: Sequence[KalshiMarket], events: Sequence[OddsEvent], now: datetime) -> MappingResult:
        result = resolve(markets, events, overrides=self.overrides())
        matches: dict[str, MarketMatch] = {}
        unmatched = list(result.unmatched)
        for ticker, match in result.matches.items():
            if match.evidence and match.evidence[0].signal == "override":
                matches[ticker] = match
                continue
            previous = self._cache.get(ticker)
            if previous is not None and _answer(previous.match) != _answer(match):
                was, now_is = _answer(previous.match), _answer(match)
                unmatched.append(
                    Unmatched(ticker, f"automatic mapping changed from {was} to {now_is}; confirm with an override")
                )
                continue
            first = previous.first_seen if previous is not None else now
            self._cache[ticker] = CachedMatch(match, first, now)
            matches[ticker] = match
        return MappingResult(matches, tuple(unmatched))

    def cached(self, ticker: str) -> CachedMatch | None:
        return self._cache.get(ticker)

    def forget(self, ticker: str) -> None:
        """Accept whatever the next pass decides for ``ticker`` (after an operator checked it)."""
        self._cache.pop(ticker, None)
