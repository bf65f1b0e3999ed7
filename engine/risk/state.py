"""The breaker's explicit state: its mode, why, today's counters and what the rate rules remember.

Immutable so every transition returns a new value the caller persists (``to_json`` for the store) before
acting on it; a halt therefore survives a restart. ``from_json`` refuses a malformed document with one line
naming the field rather than guessing, because a guessed breaker state is a fail-open breaker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from engine.errors import ArbError
from engine.money import parse_decimal

STATE_VERSION = 1
RATE_WINDOW = timedelta(minutes=1)


class RiskError(ArbError):
    """A breaker or ledger input that cannot be used (malformed state document, impossible fill...)."""


class BreakerMode(StrEnum):
    """ACTIVE: every rule applies. REDUCING: only orders that shrink a position. HALTED: nothing but cancels."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


@dataclass(frozen=True, slots=True)
class DailyCounters:
    """One trading day (midnight to midnight in the limits' time zone).

    ``realised_pnl`` is net of the day's fees. ``fill_ids`` and ``settled`` make replays idempotent: a fill or
    settlement already counted today is not counted again after a restart.
    """

    day: date
    realised_pnl: Decimal = Decimal(0)
    trades: int = 0
    contracts: int = 0
    fees: Decimal = Decimal(0)
    fill_ids: frozenset[str] = frozenset()
    settled: frozenset[str] = frozenset()

    @property
    def loss(self) -> Decimal:
        return max(Decimal(0), -self.realised_pnl)


@dataclass(frozen=True, slots=True)
class HeldSignal:
    """A signal the sanity rule held: never traded until the operator confirms or blocks it."""

    signal_key: str
    ticker: str
    detail: str
    since: datetime


@dataclass(frozen=True, slots=True)
class BreakerState:
    """Mode, reason and the rule that set it; counters; the memory the rate and sanity rules need.

    ``group_epoch`` grows on every resume so the executor opens fresh order groups (a killed group stays
    triggered on the exchange). ``reducing_events`` maps an event ticker to why only reductions pass there
    (a legged arbitrage), independently of the global mode.
    """

    mode: BreakerMode
    since: datetime
    day: DailyCounters
    reason: str = ""
    rule: str = ""
    consecutive_losses: int = 0
    killed: bool = False
    group_epoch: int = 0
    recent_orders: tuple[datetime, ...] = ()
    last_order_at: Mapping[str, datetime] = field(default_factory=dict)
    reducing_events: Mapping[str, str] = field(default_factory=dict)
    held: Mapping[str, HeldSignal] = field(default_factory=dict)
    confirmed: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready document (money as strings, times as ISO 8601 UTC) for ``Store.save_breaker``."""
        day = self.day
        return {
            "version": STATE_VERSION,
            "mode": self.mode.value,
            "since": _iso(self.since),
            "reason": self.reason,
            "rule": self.rule,
            "day": {
                "date": day.day.isoformat(),
                "realised_pnl": str(day.realised_pnl),
                "trades": day.trades,
                "contracts": day.contracts,
                "fees": str(day.fees),
                "fill_ids": sorted(day.fill_ids),
                "settled": sorted(day.settled),
            },
            "consecutive_losses": self.consecutive_losses,
            "killed": self.killed,
            "group_epoch": self.group_epoch,
            "recent_orders": [_iso(t) for t in self.recent_orders],
            "last_order_at": {t: _iso(ts) for t, ts in sorted(self.last_order_at.items())},
            "reducing_events": dict(sorted(self.reducing_events.items())),
            "held": {
                k: {"ticker": h.ticker, "detail": h.detail, "since": _iso(h.since)}
                for k, h in sorted(self.held.items())
            },
            "confirmed": sorted(self.confirmed),
            "blocked": sorted(self.blocked),
        }

    @classmethod
    def from_json(cls, doc: object) -> BreakerState:
        """The state ``to_json`` wrote; a :class:`RiskError` naming the field for anything else."""
        r = _Reader(doc, "breaker state")
        version = r.integer("version")
        if version != STATE_VERSION:
            raise RiskError(f"breaker state: field 'version': {version} is not the supported {STATE_VERSION}")
        mode_text = r.string("mode")
        try:
            mode = BreakerMode(mode_text)
        except ValueError:
            known = ", ".join(m.value for m in BreakerMode)
            raise RiskError(f"breaker state: field 'mode': {mode_text!r} is not one of {known}") from None
        d = _Reader(r.raw("day"), "breaker state day")
        try:
            day_date = date.fromisoformat(d.string("date"))
        except ValueError:
            raise RiskError(f"breaker state day: field 'date': {d.raw('date')!r} is not YYYY-MM-DD") from None
        counters = DailyCounters(
            day=day_date,
            realised_pnl=d.decimal("realised_pnl"),
            trades=d.count("trades"),
            contracts=d.count("contracts"),
            fees=d.decimal("fees"),
            fill_ids=frozenset(d.strings("fill_ids")),
            settled=frozenset(d.strings("settled")),
        )
        held: dict[str, HeldSignal] = {}
        for key, entry in r.mapping("held").items():
            h = _Reader(entry, f"breaker state held {key!r}")
            held[key] = HeldSignal(key, h.string("ticker"), h.string("detail"), h.time("since"))
        return cls(
            mode=mode,
            since=r.time("since"),
            day=counters,
            reason=r.string("reason"),
            rule=r.string("rule"),
            consecutive_losses=r.count("consecutive_losses"),
            killed=r.boolean("killed"),
            group_epoch=r.count("group_epoch"),
            recent_orders=tuple(_parse_time(t, "breaker state", "recent_orders") for t in r.strings("recent_orders")),
            last_order_at={
                k: _parse_time(v, "breaker state", f"last_order_at.{k}")
                for k, v in _string_map(r.mapping("last_order_at"), "last_order_at").items()
            },
            reducing_events=_string_map(r.mapping("reducing_events"), "reducing_events"),
            held=held,
            confirmed=frozenset(r.strings("confirmed")),
            blocked=frozenset(r.strings("blocked")),
        )


def local_day(ts: datetime, zone: Any) -> date:
    """The trading day ``ts`` falls in: its calendar date in ``zone`` (a ``ZoneInfo``), DST included."""
    if ts.tzinfo is None:
        raise RiskError(f"timestamp {ts.isoformat()} has no time zone; the breaker needs aware UTC times")
    return ts.astimezone(zone).date()


def _iso(ts: datetime) -> str:
    return ts.isoformat()


def _parse_time(value: str, where: str, name: str) -> datetime:
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise RiskError(f"{where}: field '{name}': {value!r} is not an ISO 8601 time") from None
    if ts.tzinfo is None:
        raise RiskError(f"{where}: field '{name}': {value!r} has no time zone")
    return ts


def _string_map(raw: Mapping[str, Any], name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(v, str):
            raise RiskError(f"breaker state: field '{name}.{k}': expected a string, got {type(v).__name__}")
        out[k] = v
    return out


class _Reader:
    """Typed access to one JSON object, each miss reported as ``<where>: field '<name>': <problem>``."""

    __slots__ = ("doc", "where")

    def __init__(self, doc: object, where: str) -> None:
        if not isinstance(doc, Mapping):
            raise RiskError(f"{where}: expected a JSON object, got {type(doc).__name__}")
        self.doc: Mapping[str, Any] = doc
        self.where = where

    def _fail(self, name: str, problem: str) -> RiskError:
        return RiskError(f"{self.where}: field '{name}': {problem}")

    def raw(self, name: str) -> Any:
        if name not in self.doc:
            raise self._fail(name, "missing")
        return self.doc[name]

    def string(self, name: str) -> str:
        value = self.raw(name)
        if not isinstance(value, str):
            raise self._fail(name, f"expected a string, got {type(value).__name__}")
        return value

    def integer(self, name: str) -> int:
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(name, f"expected an integer, got {value!r}")
        return value

    def count(self, name: str) -> int:
        value = self.integer(name)
        if value < 0:
            raise self._fail(name, f"expected a count >= 0, got {value}")
        return value

    def boolean(self, name: str) -> bool:
        value = self.raw(name)
        if not isinstance(value, bool):
            raise self._fail(name, f"expected true or false, got {value!r}")
        return value

    def decimal(self, name: str) -> Decimal:
        value = self.raw(name)
        try:
            return parse_decimal(value)
        except ValueError as exc:
            raise self._fail(name, str(exc)) from None

    def time(self, name: str) -> datetime:
        return _parse_time(self.string(name), self.where, name)

    def strings(self, name: str) -> list[str]:
        value = self.raw(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(name, "expected a list of strings")
        return list(value)

    def mapping(self, name: str) -> Mapping[str, Any]:
        value = self.raw(name)
        if not isinstance(value, Mapping):
            raise self._fail(name, f"expected a JSON object, got {type(value).__name__}")
        return value
