"""Operator overrides: manual pairs and manual blocks that always win over automatic matching.

File (JSON): ``{"pairs": [{"ticker", "odds_event_id", "market_key", "outcome", "point"?, "note"?}],
"blocks": [{"ticker" | "event_ticker" | "odds_event_id", "reason"}]}``. :class:`OverridesFile` re-reads the
file when its modification time or size changes, so an operator edit applies on the next mapping pass
without a restart; a bad edit is reported and the last good overrides stay in force.

Every key is checked: a misspelt one (``"blockz"``, ``"tickr"``, ``"ponit"``) is an error naming it, never
ignored, because an ignored block is a market the operator believes is switched off and is not. A ticker
paired twice or blocked twice is refused for the same reason: only one of the two entries would apply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from engine.errors import ConfigError
from engine.mapping.types import MarketKind


@dataclass(frozen=True, slots=True)
class ManualPair:
    ticker: str
    odds_event_id: str
    market_key: MarketKind
    outcome: str
    point: Decimal | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Overrides:
    pairs: dict[str, ManualPair] = field(default_factory=dict)
    blocked_tickers: dict[str, str] = field(default_factory=dict)
    blocked_events: dict[str, str] = field(default_factory=dict)
    blocked_odds_events: dict[str, str] = field(default_factory=dict)

    def block_reason(self, ticker: str, event_ticker: str) -> str | None:
        if ticker in self.blocked_tickers:
            return self.blocked_tickers[ticker]
        return self.blocked_events.get(event_ticker)


_TOP_KEYS = ("pairs", "blocks")
_PAIR_KEYS = ("ticker", "odds_event_id", "market_key", "outcome", "point", "note")
_BLOCK_KEYS = ("ticker", "event_ticker", "odds_event_id", "reason")


def _known_keys(raw: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [k for k in raw if k not in allowed]
    if unknown:
        raise ConfigError(
            f"overrides {where}: unknown key {', '.join(repr(k) for k in unknown)}; expected {', '.join(allowed)}"
        )


def _text(raw: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or (required and not value):
        raise ConfigError(f"overrides {where}.{key}: missing or not a non-empty string")
    return value


def _pair(raw: Any, where: str) -> ManualPair:
    if not isinstance(raw, dict):
        raise ConfigError(f"overrides {where}: expected an object")
    _known_keys(raw, _PAIR_KEYS, where)
    try:
        kind = MarketKind(_text(raw, "market_key", where))
    except ValueError:
        raise ConfigError(f"overrides {where}.market_key: expected one of h2h, spreads, totals") from None
    point_raw = raw.get("point")
    point: Decimal | None = None
    if point_raw is not None:
        if isinstance(point_raw, bool) or not isinstance(point_raw, int | float | str):
            raise ConfigError(f"overrides {where}.point: expected a number")
        try:
            point = Decimal(str(point_raw))
        except InvalidOperation:
            raise ConfigError(f"overrides {where}.point: {point_raw!r} is not a number") from None
    if kind is not MarketKind.WINNER and point is None:
        raise ConfigError(f"overrides {where}.point: required for {kind.value}")
    return ManualPair(
        ticker=_text(raw, "ticker", where),
        odds_event_id=_text(raw, "odds_event_id", where),
        market_key=kind,
        outcome=_text(raw, "outcome", where),
        point=point,
        note=_text(raw, "note", where, required=False),
    )


def parse_overrides(doc: Any) -> Overrides:
    if not isinstance(doc, dict):
        raise ConfigError("overrides: expected an object with 'pairs' and 'blocks'")
    _known_keys(doc, _TOP_KEYS, "file")
    pairs_raw = doc.get("pairs", [])
    blocks_raw = doc.get("blocks", [])
    if not isinstance(pairs_raw, list) or not isinstance(blocks_raw, list):
        raise ConfigError("overrides: 'pairs' and 'blocks' must be arrays")
    pairs: dict[str, ManualPair] = {}
    for i, raw in enumerate(pairs_raw):
        pair = _pair(raw, f"pairs[{i}]")
        if pair.ticker in pairs:
            raise ConfigError(f"overrides pairs[{i}].ticker: {pair.ticker} is already paired by an earlier entry")
        pairs[pair.ticker] = pair
    tickers: dict[str, str] = {}
    events: dict[str, str] = {}
    odds: dict[str, str] = {}
    for i, raw in enumerate(blocks_raw):
        where = f"blocks[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"overrides {where}: expected an object")
        _known_keys(raw, _BLOCK_KEYS, where)
        reason = _text(raw, "reason", where, required=False) or "blocked by operator"
        keys = [k for k in ("ticker", "event_ticker", "odds_event_id") if raw.get(k)]
        if len(keys) != 1:
            raise ConfigError(f"overrides {where}: give exactly one of ticker, event_ticker, odds_event_id")
        target = {"ticker": tickers, "event_ticker": events, "odds_event_id": odds}[keys[0]]
        name = _text(raw, keys[0], where)
        if name in target:
            raise ConfigError(f"overrides {where}.{keys[0]}: {name} is already blocked by an earlier entry")
        target[name] = reason
    return Overrides(pairs, tickers, events, odds)


def load_overrides(path: str | Path) -> Overrides:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"overrides file {p} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"overrides file {p} cannot be read: {exc}") from None
    return parse_overrides(doc)


class OverridesFile:
    """The overrides in one file, re-read whenever the file changes (checked on each ``current()`` call)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._overrides = Overrides()
        self.last_error: ConfigError | None = None

    def current(self) -> Overrides:
        """The newest valid overrides; a missing file means none, a bad edit keeps the previous ones."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._overrides, self.last_error = None, Overrides(), None
            return self._overrides
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._overrides = load_overrides(self.path)
                self.last_error = None
            except ConfigError as exc:
                self.last_error = exc
        return self._overrides
