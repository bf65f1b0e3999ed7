"""``EngineSnapshot``: the engine at one instant, immutable, for ``status --json``, the log and the dashboard.

The engine builds a new snapshot after each change worth showing and swaps it in whole (cache, then
publish), so a reader on another task or thread always sees one consistent picture and never waits on the
pipeline. Money stays ``Decimal`` here and becomes decimal strings only in :meth:`EngineSnapshot.to_json`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from engine.detection.signals import Signal
from engine.money import money_str


class FeedState(StrEnum):
    """How a feed is doing, as an operator reads it."""

    STARTING = "starting"  # not connected yet, or nothing polled yet
    CONNECTED = "connected"  # messages arrive within the expected interval
    STALE = "stale"  # connected but silent for longer than its stale limit
    DEGRADED = "degraded"  # errors, throttling or resyncs: data arrives but not all of it
    DOWN = "down"  # disconnected, or every recent call failed
    IDLE = "idle"  # deliberately not polling (no mapped markets, no credits left)


@dataclass(frozen=True, slots=True)
class FeedHealth:
    name: str
    state: FeedState
    age_s: float | None
    """Seconds since the feed's last message; None before the first."""
    detail: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Feed-specific numbers (the Odds API's credits), merged into its status entry."""

    def to_json(self) -> dict[str, Any]:
        age = None if self.age_s is None or not math.isfinite(self.age_s) else round(self.age_s, 3)
        out: dict[str, Any] = {"state": self.state.value, "age_s": age}
        if self.detail:
            out["detail"] = self.detail
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class LimitUsage:
    """One breaker limit and how much of it is used; both as the exact strings the breaker holds."""

    limit: str
    used: str


@dataclass(frozen=True, slots=True)
class LegView:
    """One market of a legged arbitrage and what it holds now (``side`` None: flat)."""

    ticker: str
    side: str | None
    count: int


@dataclass(frozen=True, slots=True)
class LeggedView:
    """An event in REDUCING because its Kalshi-only arbitrage filled on some legs only: new entries there
    wait until every leg is flat or holds the same count (hedged)."""

    event_ticker: str
    reason: str
    legs: tuple[LegView, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event_ticker,
            "reason": self.reason,
            "legs": [{"ticker": x.ticker, "side": x.side, "count": x.count} for x in self.legs],
        }


@dataclass(frozen=True, slots=True)
class BreakerView:
    state: str
    reason: str = ""
    limits: Mapping[str, LimitUsage] = field(default_factory=dict)
    legged: tuple[LeggedView, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "reason": self.reason,
            "limits": {k: {"limit": v.limit, "used": v.used} for k, v in self.limits.items()},
            "legged": [x.to_json() for x in self.legged],
        }


@dataclass(frozen=True, slots=True)
class LagStats:
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    samples: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"p50": round(self.p50_ms, 3), "p99": round(self.p99_ms, 3), "max": round(self.max_ms, 3),
                "samples": self.samples}  # fmt: skip


@dataclass(frozen=True, slots=True)
class MarketCounts:
    discovered: int = 0
    mapped: int = 0
    subscribed: int = 0


@dataclass(frozen=True, slots=True)
class OrderCounts:
    open: int = 0
    unknown: int = 0
    sent: int = 0
    """Orders sent since start (any outcome)."""
    filled: int = 0
    """Fills recorded since start."""


@dataclass(frozen=True, slots=True)
class PositionView:
    count: int = 0
    exposure: Decimal = Decimal(0)
    legged: tuple[LeggedView, ...] = ()


@dataclass(frozen=True, slots=True)
class PnlView:
    realised: Decimal = Decimal(0)
    unrealised: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    today: Decimal = Decimal(0)
    unmarked: int = 0
    """Open positions with no bid to sell at now, valued at zero in ``unrealised``."""


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """Everything ``status --json`` shows (see :mod:`engine.runtime.control_api` for the document)."""

    ts: datetime
    mode: str  # "PAPER" or "LIVE"
    demo: bool
    profile: str
    breaker: BreakerView
    feeds: tuple[FeedHealth, ...]
    loop_lag: LagStats
    markets: MarketCounts
    signals: tuple[Signal, ...]
    orders: OrderCounts
    positions: PositionView
    pnl: PnlView
    drops: Mapping[str, int] = field(default_factory=dict)
    """Items a slow consumer lost (queue or snapshot subscriber name -> count): shown, never hidden."""
    evaluation_errors: int = 0
    """Market evaluations that raised; each was logged with its market and the loop went on."""
    started_at: datetime | None = None

    def signals_by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.signals:
            out[s.kind.value] = out.get(s.kind.value, 0) + 1
        return dict(sorted(out.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "ts": self.ts.isoformat().replace("+00:00", "Z"),
            "started_at": None if self.started_at is None else self.started_at.isoformat().replace("+00:00", "Z"),
            "mode": self.mode,
            "demo": self.demo,
            "profile": self.profile,
            "breaker": self.breaker.to_json(),
            "feeds": {f.name: f.to_json() for f in self.feeds},
            "loop_lag_ms": self.loop_lag.to_json(),
            "markets": {
                "discovered": self.markets.discovered,
                "mapped": self.markets.mapped,
                "subscribed": self.markets.subscribed,
            },
            "signals": {"live": len(self.signals), "by_kind": self.signals_by_kind()},
            "orders": {
                "open": self.orders.open,
                "unknown": self.orders.unknown,
                "sent": self.orders.sent,
                "filled": self.orders.filled,
            },
            "positions": {
                "count": self.positions.count,
                "exposure": money_str(self.positions.exposure),
                "legged": [x.to_json() for x in self.positions.legged],
            },
            "pnl": {
                "realised": money_str(self.pnl.realised),
                "unrealised": money_str(self.pnl.unrealised),
                "fees": money_str(self.pnl.fees),
                "today": money_str(self.pnl.today),
                "unmarked": self.pnl.unmarked,
            },
            "drops": dict(self.drops),
            "evaluation_errors": self.evaluation_errors,
        }
