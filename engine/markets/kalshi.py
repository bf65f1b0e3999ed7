"""Kalshi market data as the 2026 API serves it: ``*_dollars`` price strings, ``*_fp`` count strings,
bids-only ``orderbook_fp``. Unknown fields are ignored; required ones are checked field by field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.errors import PayloadError
from engine.markets.fields import FieldReader
from engine.money import ONE, ZERO, parse_count, parse_level_price
from engine.pricing.fees import DEFAULT_FEES, FeeSchedule, FeeType

ACTIVE = "active"


def series_of(event_ticker: str) -> str:
    """``KXNFLGAME-26OCT05ATLNO`` -> ``KXNFLGAME``: the series is the ticker's first segment."""
    return event_ticker.split("-", 1)[0]


@dataclass(frozen=True, slots=True)
class KalshiMarket:
    ticker: str
    event_ticker: str
    status: str
    market_type: str = "binary"
    title: str = ""
    yes_sub_title: str = ""
    no_sub_title: str = ""
    rules_primary: str = ""
    strike_type: str = ""
    floor_strike: Decimal | None = None
    cap_strike: Decimal | None = None
    yes_bid: Decimal | None = None
    yes_ask: Decimal | None = None
    no_bid: Decimal | None = None
    no_ask: Decimal | None = None
    last_price: Decimal | None = None
    volume: Decimal | None = None
    close_time: datetime | None = None
    occurrence_datetime: datetime | None = None
    exchange_index: int = 0
    """The exchange shard that trades this market (exchange_sharding.md); order groups must live there."""

    @property
    def series_ticker(self) -> str:
        return series_of(self.event_ticker)

    @property
    def suffix(self) -> str:
        """The part after the event ticker: a team code, ``TIE``, code+integer, or an integer."""
        prefix = self.event_ticker + "-"
        if self.ticker.startswith(prefix):
            return self.ticker[len(prefix) :]
        return self.ticker.rsplit("-", 1)[-1]

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


def parse_market(obj: object) -> KalshiMarket:
    """One object of ``GET /markets`` (or a nested event market)."""
    r = FieldReader("kalshi market", obj, "ticker")
    return KalshiMarket(
        ticker=r.ident,
        event_ticker=r.string("event_ticker"),
        status=r.string("status"),
        market_type=r.string("market_type", required=False, default="binary"),
        title=r.string("title", required=False),
        yes_sub_title=r.string("yes_sub_title", required=False),
        no_sub_title=r.string("no_sub_title", required=False),
        rules_primary=r.string("rules_primary", required=False),
        strike_type=r.string("strike_type", required=False),
        floor_strike=r.number("floor_strike", required=False),
        cap_strike=r.number("cap_strike", required=False),
        yes_bid=r.price("yes_bid_dollars", required=False),
        yes_ask=r.price("yes_ask_dollars", required=False),
        no_bid=r.price("no_bid_dollars", required=False),
        no_ask=r.price("no_ask_dollars", required=False),
        last_price=r.price("last_price_dollars", required=False),
        volume=r.count("volume_fp", required=False),
        close_time=r.timestamp("close_time", required=False),
        occurrence_datetime=r.timestamp("occurrence_datetime", required=False),
        exchange_index=_exchange_index(r),
    )


def _exchange_index(r: FieldReader) -> int:
    value = r.obj.get("exchange_index")
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise r.fail("exchange_index", f"expected a non-negative integer, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Level:
    price: Decimal
    count: Decimal


def _ask_float(opposite_bids: tuple[Level, ...]) -> float:
    """``1.0 - float`` is within an ulp of the exact ask: far inside the screen's tolerance."""
    return 1.0 - float(opposite_bids[0].price) if opposite_bids else math.nan


@dataclass(frozen=True, slots=True)
class Orderbook:
    """Bids for YES and NO, each best (highest) first. Asks are derived: a NO bid at X is a YES ask at 1 - X."""

    ticker: str
    yes_bids: tuple[Level, ...] = ()
    no_bids: tuple[Level, ...] = ()
    top_asks: tuple[float, float] = field(init=False, compare=False, repr=False)
    """Best YES and NO asks as floats (NaN for an empty side), taken once here for the detection screen,
    which every cold pass and every change of this book reads; the exact rules read the Decimal levels."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "top_asks", (_ask_float(self.no_bids), _ask_float(self.yes_bids)))

    def asks(self, side: str) -> tuple[Level, ...]:
        """Ask ladder for buying ``side`` ("yes" or "no"), best (lowest) first."""
        opposite = self.no_bids if side == "yes" else self.yes_bids
        return tuple(Level(ONE - lvl.price, lvl.count) for lvl in opposite)

    def best_ask(self, side: str) -> Level | None:
        opposite = self.no_bids if side == "yes" else self.yes_bids
        if not opposite:
            return None
        best = opposite[0]
        return Level(ONE - best.price, best.count)


def _levels(ticker: str, book: dict[str, Any], name: str) -> tuple[Level, ...]:
    raw = book.get(name)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PayloadError("kalshi orderbook", ticker, f"orderbook_fp.{name}", "expected an array of pairs")
    levels: dict[Decimal, Decimal] = {}
    for i, entry in enumerate(raw):
        where = f"orderbook_fp.{name}[{i}]"
        if not (isinstance(entry, list) and len(entry) == 2):
            problem = f"expected a [price_dollars, count_fp] pair, got {entry!r}"
            raise PayloadError("kalshi orderbook", ticker, where, problem)
        try:
            price = parse_level_price(entry[0])
            count = parse_count(entry[1])
        except ValueError as exc:
            raise PayloadError("kalshi orderbook", ticker, where, str(exc)) from None
        if count > ZERO:
            levels[price] = levels.get(price, ZERO) + count
    return tuple(Level(p, levels[p]) for p in sorted(levels, reverse=True))


def parse_orderbook(ticker: str, body: object) -> Orderbook:
    """The body of ``GET /markets/{ticker}/orderbook``: ``{"orderbook_fp": {"yes_dollars", "no_dollars"}}``.

    Levels come sorted ascending on the wire; they are kept best-first here.
    """
    book = body.get("orderbook_fp") if isinstance(body, dict) else None
    if not isinstance(book, dict):
        raise PayloadError("kalshi orderbook", ticker, "orderbook_fp", "missing or not an object")
    return Orderbook(ticker, _levels(ticker, book, "yes_dollars"), _levels(ticker, book, "no_dollars"))


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    ticker: str
    title: str = ""
    category: str = ""
    fees: FeeSchedule = DEFAULT_FEES
    tags: tuple[str, ...] = field(default_factory=tuple)


def parse_series(obj: object) -> SeriesInfo:
    """One object of ``GET /series`` (or the ``series`` of ``GET /series/{ticker}``)."""
    r = FieldReader("kalshi series", obj, "ticker")
    raw_type = r.string("fee_type")
    try:
        fee_type = FeeType(raw_type)
    except ValueError:
        raise r.fail("fee_type", f"unknown fee type {raw_type!r}") from None
    multiplier = r.number("fee_multiplier")
    assert multiplier is not None
    if multiplier < ZERO:
        raise r.fail("fee_multiplier", f"negative multiplier {multiplier}")
    tags = tuple(t for t in r.array("tags", required=False) if isinstance(t, str))
    return SeriesInfo(
        ticker=r.ident,
        title=r.string("title", required=False),
        category=r.string("category", required=False),
        fees=FeeSchedule(fee_type, multiplier),
        tags=tags,
    )


@dataclass(frozen=True, slots=True)
class KalshiEvent:
    event_ticker: str
    series_ticker: str
    title: str = ""
    sub_title: str = ""
    mutually_exclusive: bool = False
    competition: str = ""
    competition_scope: str = ""
    markets: tuple[KalshiMarket, ...] = ()
    fee_override: FeeSchedule | None = None


def parse_event(obj: object) -> KalshiEvent:
    """One object of ``GET /events`` (nested markets parsed when present)."""
    r = FieldReader("kalshi event", obj, "event_ticker")
    meta = r.obj.get("product_metadata")
    meta = meta if isinstance(meta, dict) else {}
    override: FeeSchedule | None = None
    raw_type = r.string("fee_type_override", required=False)
    if raw_type:
        try:
            multiplier = r.number("fee_multiplier_override", required=False)
            override = FeeSchedule(FeeType(raw_type), ONE if multiplier is None else multiplier)
        except ValueError:
            raise r.fail("fee_type_override", f"unknown fee type {raw_type!r}") from None
    mutually_exclusive = r.obj.get("mutually_exclusive", False)
    if not isinstance(mutually_exclusive, bool):
        raise r.fail("mutually_exclusive", "expected a boolean")
    return KalshiEvent(
        event_ticker=r.ident,
        series_ticker=r.string("series_ticker", required=False) or series_of(r.ident),
        title=r.string("title", required=False),
        sub_title=r.string("sub_title", required=False),
        mutually_exclusive=mutually_exclusive,
        competition=str(meta.get("competition", "") or ""),
        competition_scope=str(meta.get("competition_scope", "") or ""),
        markets=tuple(parse_market(m) for m in r.array("markets", required=False)),
        fee_override=override,
    )


__all__ = [
    "KalshiEvent",
    "KalshiMarket",
    "Level",
    "Orderbook",
    "PayloadError",
    "SeriesInfo",
    "parse_event",
    "parse_market",
    "parse_orderbook",
    "parse_series",
    "series_of",
]
