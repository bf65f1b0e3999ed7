"""Small builders for the real payload shapes, so tests state only what matters to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.mapping.types import MarketKind, MarketMatch
from engine.markets.kalshi import KalshiMarket, Orderbook, parse_market, parse_orderbook
from engine.markets.odds import OddsEvent, parse_odds_event

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
BOOKS = ("draftkings", "fanduel", "betmgm", "williamhill_us")


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def market_json(ticker: str, event_ticker: str, status: str = "active", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ticker": ticker,
        "event_ticker": event_ticker,
        "market_type": "binary",
        "title": "",
        "yes_sub_title": "",
        "no_sub_title": "",
        "status": status,
        "yes_bid_dollars": "0.0000",
        "yes_ask_dollars": "0.0000",
        "no_bid_dollars": "0.0000",
        "no_ask_dollars": "0.0000",
        "last_price_dollars": "0.0000",
        "volume_fp": "0.00",
        "close_time": iso(NOW + timedelta(days=1)),
    }
    body.update(extra)
    return body


def market(ticker: str, event_ticker: str, status: str = "active", **extra: Any) -> KalshiMarket:
    return parse_market(market_json(ticker, event_ticker, status, **extra))


def book_json(yes_bids: list[tuple[str, str]], no_bids: list[tuple[str, str]]) -> dict[str, Any]:
    """Wire shape: ascending price, best bid last."""
    return {
        "orderbook_fp": {
            "yes_dollars": [list(x) for x in sorted(yes_bids, key=lambda x: Decimal(x[0]))],
            "no_dollars": [list(x) for x in sorted(no_bids, key=lambda x: Decimal(x[0]))],
        }
    }


def yes_asks(ticker: str, asks: list[tuple[str, str]], yes_bids: list[tuple[str, str]] | None = None) -> Orderbook:
    """A book whose YES asks are ``asks``: each is a NO bid at 1 - price."""
    no_bids = [(str(Decimal(1) - Decimal(p)), c) for p, c in asks]
    return parse_orderbook(ticker, book_json(yes_bids or [], no_bids))


def h2h_event(
    event_id: str,
    home: str,
    away: str,
    prices: dict[str, dict[str, int]],
    *,
    commence: datetime = NOW + timedelta(hours=3),
    ages: dict[str, float] | None = None,
    extra_markets: dict[str, list[dict[str, Any]]] | None = None,
    sport: str = "americanfootball_nfl",
) -> OddsEvent:
    """``prices``: book -> {outcome name -> american odds}; ``ages``: book -> seconds since last update."""
    bookmakers = []
    for book, outcomes in prices.items():
        updated = iso(NOW - timedelta(seconds=(ages or {}).get(book, 10)))
        markets = [
            {
                "key": "h2h",
                "last_update": updated,
                "outcomes": [{"name": n, "price": p} for n, p in outcomes.items()],
            }
        ]
        for m in (extra_markets or {}).get(book, []):
            markets.append({"last_update": updated, **m})
        bookmakers.append({"key": book, "title": book, "last_update": updated, "markets": markets})
    return parse_odds_event(
        {
            "id": event_id,
            "sport_key": sport,
            "sport_title": sport,
            "commence_time": iso(commence),
            "home_team": home,
            "away_team": away,
            "bookmakers": bookmakers,
        }
    )


def winner(ticker: str, event_ticker: str, odds_id: str, team: str) -> MarketMatch:
    return MarketMatch(ticker, event_ticker, odds_id, MarketKind.WINNER, team)
