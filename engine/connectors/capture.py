"""Record one snapshot of the configured endpoints in the format :mod:`engine.markets.snapshot` reads:
``{"as_of", "kalshi": {"markets", "orderbooks", "series"}, "odds": [...]}``.

Series come from ``GET /series?category=Sports`` filtered to the game series of known leagues (winner,
spread, total); if none is found, the four big winner series are asked for by name. Odds cost credits,
so exactly one ``/odds`` call is made per sport that Kalshi lists and the (free) ``/sports`` call shows
active, with every configured bookmaker (ten books cost one region) and only the market kinds Kalshi
actually lists for that sport.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.clock import SYSTEM_CLOCK
from engine.connectors.errors import ApiError, QuotaExceededError
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.odds_api.client import OddsApiClient
from engine.mapping.teams import League, league_of_series

log = logging.getLogger(__name__)

FALLBACK_SERIES: tuple[str, ...] = ("KXNFLGAME", "KXNBAGAME", "KXMLBGAME", "KXNHLGAME")
ODDS_MARKET_OF_KIND = {"winner": "h2h", "spread": "spreads", "total": "totals"}


@dataclass(slots=True)
class CaptureReport:
    series: list[str] = field(default_factory=list)
    markets: int = 0
    orderbooks: int = 0
    odds_events: int = 0
    odds_calls: int = 0
    credits_spent: int = 0
    credits_remaining: int | None = None
    warnings: list[str] = field(default_factory=list)


def _iso(now: datetime) -> str:
    return now.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _pick_series(kalshi: KalshiRestClient, leagues: Sequence[str] | None) -> list[dict[str, Any]]:
    def wanted(ticker: object) -> bool:
        found = league_of_series(ticker) if isinstance(ticker, str) else None
        return found is not None and (leagues is None or found[0].key in leagues)

    try:
        listed = [s for s in await kalshi.series_raw(category="Sports") if isinstance(s, dict)]
    except ApiError as exc:
        log.warning("capture: GET /series failed (%s); falling back to the main winner series", exc)
        listed = []
    chosen = [s for s in listed if wanted(s.get("ticker"))]
    if chosen:
        return chosen
    out = []
    for ticker in FALLBACK_SERIES:
        if not wanted(ticker):
            continue
        try:
            raw = await kalshi.series_one_raw(ticker)
        except ApiError as exc:
            log.warning("capture: series %s unavailable: %s", ticker, exc)
            continue
        if isinstance(raw, dict):
            out.append(raw)
    return out


async def capture_snapshot(
    kalshi: KalshiRestClient,
    odds: OddsApiClient | None,
    *,
    bookmakers: Sequence[str],
    leagues: Sequence[str] | None = None,
    odds_markets: Sequence[str] | None = None,
    now: Callable[[], datetime] = SYSTEM_CLOCK.now,
) -> tuple[dict[str, Any], CaptureReport]:
    """Fetch series, open markets, their books and one odds call per sport; returns (document, report)."""
    report = CaptureReport()
    series = await _pick_series(kalshi, leagues)
    kinds_by_league: dict[str, tuple[League, set[str]]] = {}
    markets: list[Any] = []
    for s in series:
        ticker = s["ticker"]
        found = league_of_series(ticker)
        assert found is not None
        league, kind = found
        batch = await kalshi.markets_raw(series_ticker=ticker, status="open")
        report.series.append(ticker)
        markets.extend(batch)
        if batch:
            kinds_by_league.setdefault(league.key, (league, set()))[1].add(kind)
    tickers = [m["ticker"] for m in markets if isinstance(m, dict) and isinstance(m.get("ticker"), str)]
    books = await kalshi.orderbooks_raw(tickers)
    missing = [t for t in tickers if t not in books]
    for t in missing:  # the multi-book call may omit some; ask for those one by one
        books[t] = await kalshi.orderbook_raw(t)
    report.markets, report.orderbooks = len(markets), len(books)

    events: list[Any] = []
    if odds is not None:
        # /sports is free: a sport out of season would cost credits for nothing
        active = {s.get("key") for s in await odds.sports() if s.get("active", True)}
        for league, kinds in kinds_by_league.values():
            if league.sport_key not in active:
                report.warnings.append(f"odds for {league.sport_key} skipped: not an active sport at the odds api")
                continue
            wanted = list(odds_markets) if odds_markets else sorted(ODDS_MARKET_OF_KIND[k] for k in kinds)
            before = odds.budget.spent_today
            try:
                batch = await odds.odds_raw(league.sport_key, markets=wanted, bookmakers=bookmakers)
            except QuotaExceededError as exc:
                report.warnings.append(f"odds for {league.sport_key} skipped: {exc}")
                continue
            report.odds_calls += 1
            report.credits_spent += odds.budget.spent_today - before
            events.extend(batch)
        report.credits_remaining = odds.quota.remaining
    report.odds_events = len(events)
    doc = {
        "as_of": _iso(now()),
        "kalshi": {"markets": markets, "orderbooks": books, "series": series},
        "odds": events,
    }
    return doc, report
