"""``DashboardSnapshot``: what the operator's dashboard panes show, as one immutable value; and
``SignalDetail``: the consensus pane of one signal, fetched on its own.

The engine builds both from its own state with the pure functions of :mod:`engine.runtime.dashboard_build`;
the Textual app only renders them (``arbtui/`` never computes a price, a fee or a decision). The snapshot is
pulled about ten times a second, so it carries rows only: the per-signal detail (books, ladder, fees, edge
history, hedges, audit trail) of hundreds of live signals made it 1 MB and more at 2,000 markets, though the
screen shows one. The app asks ``signal_detail(key)`` for the selected signal alone.

Both cross the control socket for ``arbtui attach`` as JSON: ``to_json`` and ``from_json`` round-trip
exactly (money and prices as decimal strings, never floats; times as ISO 8601 UTC), and ``from_json``
refuses a malformed document with one line naming the field.

Ages are seconds computed by the engine from its own clock at ``ts``, so a pinned clock gives a picture
that never moves (the dashboard's snapshot tests rely on it).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from engine.errors import ArbError


class DashboardFormatError(ArbError):
    """A dashboard document (from another process) that does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class SignalRow:
    """One live (or just gone) signal as the signals table shows it; ``key`` is stable across snapshots."""

    key: str
    kind: str
    league: str
    game: str
    ticker: str
    market: str
    side: str
    fair: float | None
    ask: Decimal
    edge: Decimal
    """The edge for an ``edge`` signal, the locked margin for an arbitrage."""
    books_agree: int
    count: int
    ev: Decimal
    age_s: float
    gone: bool = False
    """Vanished from the engine within the last few seconds: shown greyed, never traded."""


@dataclass(frozen=True, slots=True)
class BookQuote:
    """One sportsbook's quote for the selected market's YES outcome."""

    book: str
    outcome: str
    american: Decimal | None
    probability: float | None
    """Vig-free probability that YES pays, from this book alone."""
    age_s: float | None
    stale: bool
    agrees: bool
    """Counted in the consensus (fresh and on the same line)."""


@dataclass(frozen=True, slots=True)
class LadderLevel:
    """One price level of the Kalshi book: an ask (from the other side's bids), and whether the signal's
    order would take it."""

    price: Decimal
    count: Decimal
    taken: bool = False


@dataclass(frozen=True, slots=True)
class HedgeLine:
    """A sportsbook leg of an ``arb`` the operator places by hand: stake in dollars for the whole size."""

    book: str
    outcome: str
    point: Decimal | None
    american: Decimal
    decimal_odds: Decimal
    stake: Decimal


@dataclass(frozen=True, slots=True)
class SignalDetail:
    """The consensus pane for one signal: books, ladder, fees, edge history, hedges and its audit trail."""

    key: str
    ticker: str
    side: str
    consensus: float | None
    books_agree: int
    quotes: tuple[BookQuote, ...] = ()
    yes_asks: tuple[LadderLevel, ...] = ()
    no_asks: tuple[LadderLevel, ...] = ()
    count: int = 0
    limit_price: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    edge_history: tuple[float, ...] = ()
    """The edge (or margin) sampled over the last minutes, oldest first, for the sparkline."""
    hedges: tuple[HedgeLine, ...] = ()
    audit: tuple[str, ...] = ()
    """What the engine did about this signal (first seen, orders, refusals), oldest first."""

    def to_json(self) -> dict[str, Any]:
        out = _encode(self)
        assert isinstance(out, dict)
        return out

    @classmethod
    def from_json(cls, doc: object) -> SignalDetail:
        return _decode_dataclass(cls, doc, "detail")


@dataclass(frozen=True, slots=True)
class FeedLine:
    name: str
    state: str
    age_s: float | None
    detail: str = ""
    credits_left: int | None = None
    burn_per_hour: float | None = None
    """Odds API credits spent per hour since the engine started."""


@dataclass(frozen=True, slots=True)
class LimitLine:
    """One breaker limit and its usage (the bar's numerator and denominator)."""

    name: str
    limit: Decimal
    used: Decimal


@dataclass(frozen=True, slots=True)
class Rejection:
    ts: datetime
    ticker: str
    rule: str
    detail: str


@dataclass(frozen=True, slots=True)
class ShardLine:
    """Bankroll and cash of one exchange shard (``exchange_index``)."""

    shard: int
    bankroll: Decimal
    cash: Decimal | None


@dataclass(frozen=True, slots=True)
class PositionRow:
    ticker: str
    event_ticker: str
    league: str
    side: str
    count: int
    avg_price: Decimal | None
    mark: Decimal | None
    unrealised: Decimal | None
    fees: Decimal
    realised: Decimal
    legged: bool = False


@dataclass(frozen=True, slots=True)
class OrderRow:
    client_order_id: str
    ts: datetime
    ticker: str
    side: str
    count: int
    limit_price: Decimal
    state: str
    filled: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class FillRow:
    fill_id: str
    ts: datetime
    ticker: str
    side: str
    count: int
    price: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class ActivityLine:
    ts: datetime
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class DashboardSnapshot:
    """The dashboard's panes at ``ts`` (the selected signal's detail apart). Built by the engine, rendered by
    the app, sent by the control socket."""

    ts: datetime
    mode: str
    demo: bool
    profile: str
    breaker_state: str
    breaker_reason: str
    limits: tuple[LimitLine, ...]
    rejections: tuple[Rejection, ...]
    shards: tuple[ShardLine, ...]
    realised: Decimal
    unrealised: Decimal
    fees: Decimal
    today: Decimal
    feeds: tuple[FeedLine, ...]
    lag_p50_ms: float
    lag_p99_ms: float
    signals: tuple[SignalRow, ...]
    positions: tuple[PositionRow, ...]
    orders: tuple[OrderRow, ...]
    fills: tuple[FillRow, ...]
    activity: tuple[ActivityLine, ...]
    resting_orders: int = 0
    """Orders resting on the exchange now: what a kill would cancel."""
    fills_total: int = 0
    markets_mapped: int = 0

    def to_json(self) -> dict[str, Any]:
        out = _encode(self)
        assert isinstance(out, dict)
        return out

    @classmethod
    def from_json(cls, doc: object) -> DashboardSnapshot:
        return _decode_dataclass(cls, doc, "dashboard")


# -- the codec: dataclass fields by their annotations ----------------------------------------------------

T = TypeVar("T")


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _decode(tp: Any, raw: object, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if raw is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _decode(inner[0], raw, where)
    if origin is tuple:
        if not isinstance(raw, list):
            raise DashboardFormatError(f"{where}: expected a list")
        item = typing.get_args(tp)[0]
        return tuple(_decode(item, v, f"{where}[{i}]") for i, v in enumerate(raw))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, raw, where)
    return _decode_scalar(tp, raw, where)


_HINTS: dict[Any, dict[str, Any]] = {}


def _hints(tp: Any) -> dict[str, Any]:
    """A dataclass's resolved annotations, kept: resolving them was most of a decode's cost (``attach``
    decodes every snapshot), and they never change."""
    found = _HINTS.get(tp)
    if found is None:
        found = _HINTS[tp] = typing.get_type_hints(tp)
    return found


def _decode_dataclass(tp: type[T], raw: object, where: str) -> T:
    if not isinstance(raw, Mapping):
        raise DashboardFormatError(f"{where}: expected an object")
    hints = _hints(tp)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(tp):  # type: ignore[arg-type]
        if f.name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise DashboardFormatError(f"{where}.{f.name}: missing")
            continue
        kwargs[f.name] = _decode(hints[f.name], raw[f.name], f"{where}.{f.name}")
    return tp(**kwargs)


def _decode_scalar(tp: Any, raw: object, where: str) -> Any:
    if tp is Decimal:
        if not isinstance(raw, str):
            raise DashboardFormatError(f"{where}: expected a decimal string, got {raw!r}")
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise DashboardFormatError(f"{where}: {raw!r} is not a decimal") from None
    if tp is datetime:
        if not isinstance(raw, str):
            raise DashboardFormatError(f"{where}: expected an ISO 8601 time")
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise DashboardFormatError(f"{where}: {raw!r} is not an ISO 8601 time") from None
    if tp is bool:
        if not isinstance(raw, bool):
            raise DashboardFormatError(f"{where}: expected true or false")
        return raw
    if tp is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise DashboardFormatError(f"{where}: expected an integer")
        return raw
    if tp is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise DashboardFormatError(f"{where}: expected a number")
        return float(raw)
    if tp is str:
        if not isinstance(raw, str):
            raise DashboardFormatError(f"{where}: expected a string")
        return raw
    raise DashboardFormatError(f"{where}: cannot decode a {tp!r}")
