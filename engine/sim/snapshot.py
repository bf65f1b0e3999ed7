"""A scan snapshot taken straight from the simulator's state, in the format ``engine.markets.snapshot`` reads.

For tests and demos that want a realistic board without going through the clients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.sim.exchange import Exchange
from engine.sim.odds_http import OddsServer
from engine.sim.payloads import iso, market_json, orderbook_json, series_json


def dump_snapshot(exchange: Exchange, odds: OddsServer, now: datetime) -> dict[str, Any]:
    """``{"as_of", "kalshi": {"markets", "orderbooks", "series"}, "odds": [...]}`` with american odds and
    h2h quotes from every bookmaker; no quota is spent."""
    markets = [market_json(s) for s in exchange.markets.values()]
    books = {t: {"orderbook_fp": orderbook_json(s.book)} for t, s in exchange.markets.items()}
    series = [series_json(s) for s in exchange.board.series]
    events = []
    for game in exchange.board.games:
        event: dict[str, Any] = {
            "id": game.odds_id,
            "sport_key": game.sport_key,
            "sport_title": game.league.upper(),
            "commence_time": iso(game.commence),
            "home_team": game.home.odds_name,
            "away_team": game.away.odds_name,
        }
        event["bookmakers"] = [
            b
            for b in (
                odds.book_json(game, book, ["h2h", "spreads", "totals"], american_fmt=True)
                for book in odds.state.bookmakers
            )
            if b is not None
        ]
        events.append(event)
    return {"as_of": iso(now), "kalshi": {"markets": markets, "orderbooks": books, "series": series}, "odds": events}
