"""A snapshot of what Kalshi and the sportsbooks showed at one moment: the input of ``arbtui scan``.

File shape: ``{"as_of", "kalshi": {"markets", "orderbooks", "series"}, "odds": [...]}``. A bad entry is
reported and skipped; only a file that cannot be read at all is fatal. A market, series or odds event listed
twice is merged when the copies are identical and refused when they differ (:mod:`engine.markets.dedupe`).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.errors import PayloadError, SnapshotError
from engine.markets.dedupe import unique_markets, unique_odds_events, unique_series
from engine.markets.fields import parse_timestamp
from engine.markets.kalshi import (
    KalshiMarket,
    Orderbook,
    SeriesInfo,
    parse_market,
    parse_orderbook,
    parse_series,
)
from engine.markets.odds import OddsEvent, parse_odds_event


@dataclass(frozen=True, slots=True)
class Snapshot:
    as_of: datetime
    markets: tuple[KalshiMarket, ...]
    orderbooks: dict[str, Orderbook]
    series: dict[str, SeriesInfo]
    odds: tuple[OddsEvent, ...]
    errors: tuple[PayloadError, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Duplicates merged into one (identical copies); refused ones are in ``errors``."""


def _list(doc: dict[str, Any], key: str, where: str) -> list[Any]:
    value = doc.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise SnapshotError(f"snapshot field {where} must be an array, got {type(value).__name__}")
    return value


def parse_snapshot(doc: object) -> Snapshot:
    if not isinstance(doc, dict):
        raise SnapshotError("snapshot must be a JSON object with as_of, kalshi and odds")
    if "as_of" not in doc:
        raise SnapshotError("snapshot is missing as_of (ISO-8601 time the data was captured)")
    try:
        as_of = parse_timestamp(doc["as_of"])
    except ValueError as exc:
        raise SnapshotError(f"snapshot as_of: {exc}") from None
    kalshi = doc.get("kalshi")
    if not isinstance(kalshi, dict):
        raise SnapshotError("snapshot is missing the kalshi object (markets, orderbooks, series)")
    errors: list[PayloadError] = []

    markets: list[KalshiMarket] = []
    for raw in _list(kalshi, "markets", "kalshi.markets"):
        try:
            markets.append(parse_market(raw))
        except PayloadError as exc:
            errors.append(exc)

    books_raw = kalshi.get("orderbooks", {}) or {}
    if not isinstance(books_raw, dict):
        raise SnapshotError("snapshot field kalshi.orderbooks must be an object keyed by ticker")
    orderbooks: dict[str, Orderbook] = {}
    for ticker, body in books_raw.items():
        try:
            orderbooks[ticker] = parse_orderbook(ticker, body)
        except PayloadError as exc:
            errors.append(exc)

    series_list: list[SeriesInfo] = []
    for raw in _list(kalshi, "series", "kalshi.series"):
        try:
            series_list.append(parse_series(raw))
        except PayloadError as exc:
            errors.append(exc)

    odds_raw = doc.get("odds")
    if not isinstance(odds_raw, list):
        raise SnapshotError("snapshot field odds must be an array of Odds API events")
    odds: list[OddsEvent] = []
    for raw in odds_raw:
        try:
            odds.append(parse_odds_event(raw))
        except PayloadError as exc:
            errors.append(exc)
    return _unique(as_of, markets, orderbooks, series_list, odds, errors)


def _unique(
    as_of: datetime,
    markets: list[KalshiMarket],
    orderbooks: dict[str, Orderbook],
    series_list: list[SeriesInfo],
    odds: list[OddsEvent],
    errors: list[PayloadError],
) -> Snapshot:
    """Each market, series and odds event once. A market whose series was refused is refused too: its fee
    schedule is unknown, and pricing it with the default schedule could understate its fees."""
    series = unique_series(series_list)
    refused_series = series.refused_keys
    kept: list[KalshiMarket] = []
    for market in markets:
        if market.series_ticker in refused_series:
            problem = f"its series {market.series_ticker} was refused (conflicting copies), so its fees are unknown"
            errors.append(PayloadError("kalshi market", market.ticker, "event_ticker", problem))
        else:
            kept.append(market)
    unique = unique_markets(kept)
    events = unique_odds_events(odds)
    errors.extend((*series.refused, *unique.refused, *events.refused))
    notes = (*series.merged, *unique.merged, *events.merged)
    by_ticker = {s.ticker: s for s in series.items}
    return Snapshot(as_of, unique.items, orderbooks, by_ticker, events.items, tuple(errors), notes)


def load_snapshot(path: str | Path) -> Snapshot:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnapshotError(f"snapshot file {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"snapshot file {p} cannot be read: {exc}") from None
    return parse_snapshot(decode_snapshot_json(text, str(p)))


def decode_snapshot_json(text: str, where: str) -> object:
    """``json.loads`` with every way it can refuse a hostile file turned into a :class:`SnapshotError`: a
    document nested too deep for the parser, or an integer longer than Python converts (4,300 digits)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"snapshot file {where} is not valid JSON: {exc}") from None
    except RecursionError:
        raise SnapshotError(f"snapshot file {where} is nested too deeply to read") from None
    except ValueError:  # the only other ValueError json raises: int() refuses an over-long number
        limit = sys.get_int_max_str_digits()
        raise SnapshotError(f"snapshot file {where} holds a number longer than {limit} digits") from None
