"""One rule for a record listed twice, used by every consumer of market lists.

A Kalshi market listed twice in one batch (a page boundary that moved, two captures merged) made every
signal appear twice, each sized to the full position limit: 100 + 100 contracts where the limit is 100. The
same holds for an Odds API event, a Kalshi series (its fee schedule) and a Kalshi event listed twice.

The rule: copies with identical content are merged into one, with a note; copies that differ (prices,
status, times, fees...) are all refused, since which one is current cannot be told, and the refusal is a
:class:`PayloadError` that names the fields that differ, reported like any other bad entry. The snapshot
loader, ``scan``, the resolver, the Kalshi-only arbitrage groups, discovery and the incremental detection
board all call :func:`dedupe` through the typed helpers below, so no consumer can double a record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from engine.errors import PayloadError
from engine.markets.kalshi import KalshiEvent, KalshiMarket, SeriesInfo
from engine.markets.odds import OddsEvent

T = TypeVar("T")

_SHOWN = 3
"""At most this many differing fields are spelled out with their values in a refusal."""


@dataclass(frozen=True, slots=True)
class Deduped(Generic[T]):
    """The records with each key once, in first-seen order, and what happened to the duplicates."""

    items: tuple[T, ...]
    merged: tuple[str, ...] = ()
    """One note per key whose identical copies were merged into one."""
    refused: tuple[PayloadError, ...] = ()
    """One error per key whose copies differ; none of those copies is in ``items``."""
    conflicting: dict[str, tuple[T, ...]] | None = None
    """The refused copies by key, for a consumer that must recognise what it refused (None when none)."""

    @property
    def refused_keys(self) -> frozenset[str]:
        return frozenset(self.conflicting or ())


def _plain(value: object) -> str | None:
    """A short printable form of a scalar field value; None for nested records (only the field is named)."""
    if value is None or isinstance(value, bool | int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    return None


def _differences(copies: tuple[object, ...]) -> str:
    """``yes_ask 0.30 / 0.45, status 'active' / 'closed'``: the compared fields whose copies disagree."""
    first = copies[0]
    if not is_dataclass(first):
        return "content"
    parts: list[str] = []
    for f in fields(first):
        if not f.compare:
            continue
        values = [getattr(c, f.name) for c in copies]
        if all(v == values[0] for v in values[1:]):
            continue
        distinct: list[object] = []
        for v in values:
            if v not in distinct:
                distinct.append(v)
        shown = [_plain(v) for v in distinct]
        if len(parts) < _SHOWN and all(s is not None for s in shown):
            parts.append(f"{f.name} " + " / ".join(s for s in shown if s is not None))
        else:
            parts.append(f.name)
    return ", ".join(parts) or "content"


def dedupe(items: Iterable[T], key: Callable[[T], str], source: str, key_field: str) -> Deduped[T]:
    """Merge identical copies of a key, refuse every copy of a key whose copies differ.

    ``source`` and ``key_field`` name the record kind and its identifying field in the refusal, the way a
    parser names a bad field (``kalshi market KX...: field 'ticker': listed 2 times with different ...``).
    """
    first: dict[str, T] = {}
    copies: dict[str, list[T]] | None = None
    rest = iter(items)
    for item in rest:  # the common case, every key once, allocates nothing per record
        ident = key(item)
        if ident in first:
            copies = {k: [v] for k, v in first.items()}
            copies[ident].append(item)
            break
        first[ident] = item
    if copies is None:
        return Deduped(tuple(first.values()))
    for item in rest:
        ident = key(item)
        found = copies.get(ident)
        if found is None:
            copies[ident] = [item]
        else:
            found.append(item)
    kept: list[T] = []
    merged: list[str] = []
    refused: list[PayloadError] = []
    conflicting: dict[str, tuple[T, ...]] = {}
    for ident, group in copies.items():
        if len(group) == 1:
            kept.append(group[0])
        elif all(c == group[0] for c in group[1:]):
            kept.append(group[0])
            merged.append(f"{source} {ident}: listed {len(group)} times with identical content, merged into one")
        else:
            conflicting[ident] = tuple(group)
            problem = (
                f"listed {len(group)} times with different {_differences(tuple(group))}: every copy refused, "
                "since which one is current cannot be told"
            )
            refused.append(PayloadError(source, ident, key_field, problem))
    return Deduped(tuple(kept), tuple(merged), tuple(refused), conflicting or None)


def unique_markets(markets: Iterable[KalshiMarket]) -> Deduped[KalshiMarket]:
    """Kalshi markets by ticker."""
    return dedupe(markets, _ticker, "kalshi market", "ticker")


def unique_odds_events(events: Iterable[OddsEvent]) -> Deduped[OddsEvent]:
    """Odds API events by id."""
    return dedupe(events, _odds_id, "odds event", "id")


def unique_series(series: Iterable[SeriesInfo]) -> Deduped[SeriesInfo]:
    """Kalshi series by ticker (a series carries the fee schedule every market of it pays)."""
    return dedupe(series, _series_ticker, "kalshi series", "ticker")


def unique_events(events: Iterable[KalshiEvent]) -> Deduped[KalshiEvent]:
    """Kalshi events by event ticker."""
    return dedupe(events, _event_ticker, "kalshi event", "event_ticker")


def _ticker(market: KalshiMarket) -> str:
    return market.ticker


def _odds_id(event: OddsEvent) -> str:
    return event.id


def _series_ticker(series: SeriesInfo) -> str:
    return series.ticker


def _event_ticker(event: KalshiEvent) -> str:
    return event.event_ticker


__all__ = ["Deduped", "dedupe", "unique_events", "unique_markets", "unique_odds_events", "unique_series"]
