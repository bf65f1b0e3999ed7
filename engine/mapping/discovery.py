"""Which Kalshi series are game markets this engine can price, from ``GET /series`` and ``GET /events``.

The league registry (``teams.LEAGUES``) names the series we have team tables and an Odds API sport for.
Discovery reads what Kalshi actually lists so that a new game series is reported (with why it cannot be
priced yet) instead of silently ignored, and known traps stay out: second divisions (``KXLALIGA2GAME``),
All-Star games (``KXMLSASTGAME``) and futures (``KXNBA``). A series or event listed twice counts once when
the copies are identical; when they differ the series is not priced (its fees or its grammar are in doubt).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.mapping.teams import League, league_of_series
from engine.markets.dedupe import unique_events, unique_series
from engine.markets.kalshi import KalshiEvent, SeriesInfo

_GAME_LIKE = re.compile(r"^KX(?P<stem>[A-Z0-9]+?)(?P<kind>GAME|SPREAD|TOTAL)$")
_SCOPES = {"Game": "winner", "Spread": "spread", "Point Total": "total"}


@dataclass(frozen=True, slots=True)
class Route:
    series: str
    league: League
    kind: str  # winner, spread, total


@dataclass(frozen=True, slots=True)
class Discovery:
    priced: dict[str, Route] = field(default_factory=dict)
    unpriced: dict[str, str] = field(default_factory=dict)
    """Game-like series we do not price, with the reason (shown by ``arbtui map`` and the doctor)."""


def _unpriced_reason(ticker: str) -> str | None:
    m = _GAME_LIKE.match(ticker)
    if m is None:
        return None
    stem = m["stem"]
    if stem.endswith("2"):
        return f"{ticker}: second division, no Odds API sport configured"
    if stem.endswith("AST"):
        return f"{ticker}: All-Star game, not priced"
    return f"{ticker}: game-like series with no league in the registry (no team table or Odds API sport)"


def discover(series: Sequence[SeriesInfo], events: Sequence[KalshiEvent] = ()) -> Discovery:
    """Classify every series Kalshi lists (and every series an event names) as priced or not, with reasons.

    An event whose ``competition_scope`` contradicts the series kind (a "Spread" event in a GAME series) makes
    the series unpriced: the ticker grammar is then not what the resolver expects.
    """
    unique_s, unique_e = unique_series(series), unique_events(events)
    events = unique_e.items
    tickers = list(dict.fromkeys([s.ticker for s in unique_s.items] + [e.series_ticker for e in events]))
    priced: dict[str, Route] = {}
    unpriced: dict[str, str] = {}
    refused = [(e.ident, f"{e.ident}: series {e.problem}") for e in unique_s.refused] + [
        (copy.series_ticker, f"{copy.series_ticker}: event {e.ident} {e.problem}")
        for e in unique_e.refused
        for copy in (unique_e.conflicting or {})[e.ident]
    ]
    for ticker, why in refused:
        if league_of_series(ticker) is not None or _unpriced_reason(ticker) is not None:  # a game series
            unpriced[ticker] = why
    tickers = [t for t in tickers if t not in unpriced]
    for ticker in tickers:
        found = league_of_series(ticker)
        if found is not None:
            priced[ticker] = Route(ticker, found[0], found[1])
            continue
        reason = _unpriced_reason(ticker)
        if reason is not None:
            unpriced[ticker] = reason
    for event in events:
        route = priced.get(event.series_ticker)
        scope = _SCOPES.get(event.competition_scope)
        if route is None or scope is None or scope == route.kind:
            continue
        del priced[event.series_ticker]
        unpriced[event.series_ticker] = (
            f"{event.series_ticker}: event {event.event_ticker} has competition_scope {event.competition_scope!r}, "
            f"expected a {route.kind} series"
        )
    return Discovery(priced, unpriced)
