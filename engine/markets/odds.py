"""The Odds API v4 events with bookmaker quotes (``GET /v4/sports/{sport}/odds``).

Prices arrive as american integers or decimal numbers depending on ``oddsFormat``; both are kept as an
exact decimal price so hedge stakes are money-exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from engine.clock import NEVER, micros
from engine.errors import PayloadError, PricingError
from engine.markets.fields import FieldReader
from engine.pricing.odds import american_stake, american_to_decimal


def _micros(moment: datetime) -> int:
    """A naive time (only code builds one: the parser refuses it) is no instant: never fresh, always started."""
    return micros(moment) if moment.tzinfo is not None else NEVER


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    decimal_odds: Decimal
    point: Decimal | None = None
    american: Decimal | None = None  # kept when quoted in american odds: its stake is exact
    implied: float = field(init=False, compare=False)  # raw implied probability, for the vig math

    def __post_init__(self) -> None:
        object.__setattr__(self, "implied", 1.0 / float(self.decimal_odds))

    @property
    def stake(self) -> Decimal:
        """Dollars to back this outcome so that it returns exactly $1 if it wins."""
        if self.american is not None:
            return american_stake(self.american)
        return 1 / self.decimal_odds


@dataclass(frozen=True, slots=True)
class BookMarket:
    key: str  # h2h, spreads, totals
    last_update: datetime
    outcomes: tuple[Outcome, ...]
    updated_us: int = field(init=False, compare=False, repr=False)
    """``last_update`` in Unix microseconds, taken once here: the detection arrays hold times as integers."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "updated_us", _micros(self.last_update))


@dataclass(frozen=True, slots=True)
class Bookmaker:
    key: str
    title: str
    last_update: datetime
    markets: tuple[BookMarket, ...]

    def market(self, key: str) -> BookMarket | None:
        for m in self.markets:
            if m.key == key:
                return m
        return None


@dataclass(frozen=True, slots=True)
class OddsEvent:
    id: str
    sport_key: str
    commence_time: datetime
    home_team: str
    away_team: str
    bookmakers: tuple[Bookmaker, ...] = ()
    sport_title: str = ""
    commence_us: int = field(init=False, compare=False, repr=False)
    """``commence_time`` in Unix microseconds, taken once here (see ``BookMarket.updated_us``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "commence_us", _micros(self.commence_time))

    def bookmaker(self, key: str) -> Bookmaker | None:
        for b in self.bookmakers:
            if b.key == key:
                return b
        return None


_NUMBER = (int, float, str)
_CACHED_TEXT = 32
"""Longer price strings are parsed without the cache, so a hostile payload cannot fill it with big keys."""


def _outcome_field(where: str, index: int, name: str = "") -> str:
    """The path of outcome ``index`` of the market at ``where`` (or of its field ``name``), for an error only."""
    return f"{where}.outcomes[{index}]{name}"


def _price(r: FieldReader, where: str, index: int, raw: Any, american: bool | None) -> tuple[Decimal, Decimal | None]:
    """Accept american integers (|x| >= 100) and decimal odds (> 1); the format is told or inferred.

    Returns the decimal odds and, for american quotes, the american number itself. ``where`` and ``index``
    name the outcome, spelled out only in an error (a poll parses tens of thousands of prices)."""
    if isinstance(raw, bool) or not isinstance(raw, _NUMBER):
        raise r.fail(_outcome_field(where, index, ".price"), f"expected a price number, got {raw!r}")
    convert = _price_of.__wrapped__ if isinstance(raw, str) and len(raw) > _CACHED_TEXT else _price_of
    try:
        return convert(isinstance(raw, float), raw, american)
    except ValueError as exc:
        raise r.fail(_outcome_field(where, index, ".price"), str(exc)) from None


@lru_cache(maxsize=8192)
def _price_of(is_float: bool, raw: int | float | str, american: bool | None) -> tuple[Decimal, Decimal | None]:
    """The exact decimal odds (and american number) ``raw`` stands for, or ValueError saying why not.

    Books quote a few hundred distinct prices, so most of a poll's outcomes repeat one already seen. The
    answer depends only on the value, whether it is a float and the format, and Decimals are immutable:
    it is cached."""
    try:
        value = Decimal(repr(raw)) if is_float else Decimal(str(raw))
    except ArithmeticError:
        raise ValueError(f"expected a price number, got {raw!r}") from None
    if not value.is_finite():
        raise ValueError(f"price {raw!r} is not finite")
    is_american = american if american is not None else (value >= 100 or value <= -100)
    if is_american:
        try:
            return american_to_decimal(value), value
        except PricingError as exc:
            raise ValueError(str(exc)) from None
    if value <= 1:
        raise ValueError(f"decimal odds {raw!r} must be greater than 1")
    return value, None


def _outcome(r: FieldReader, where: str, index: int, raw: Any, american: bool | None) -> Outcome:
    """Outcome ``index`` of the market at ``where``."""
    if not isinstance(raw, dict):
        raise r.fail(_outcome_field(where, index), "expected an outcome object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise r.fail(_outcome_field(where, index, ".name"), "missing or not a string")
    if "price" not in raw:
        raise r.fail(_outcome_field(where, index, ".price"), "missing")
    point_raw = raw.get("point")
    point: Decimal | None = None
    if point_raw is not None:
        if isinstance(point_raw, bool) or not isinstance(point_raw, int | float):
            raise r.fail(_outcome_field(where, index, ".point"), f"expected a number, got {point_raw!r}")
        point = Decimal(repr(point_raw)) if isinstance(point_raw, float) else Decimal(point_raw)
    decimal_odds, american_odds = _price(r, where, index, raw["price"], american)
    return Outcome(name, decimal_odds, point, american_odds)


def parse_odds_event(obj: object, *, american: bool | None = None) -> OddsEvent:
    """One event of ``/odds`` (or ``/events``, which has no bookmakers)."""
    r = FieldReader("odds event", obj, "id")
    commence = r.timestamp("commence_time")
    assert commence is not None
    books: list[Bookmaker] = []
    for bi, braw in enumerate(r.array("bookmakers", required=False)):
        bwhere = f"bookmakers[{bi}]"
        if not isinstance(braw, dict) or not isinstance(braw.get("key"), str):
            raise r.fail(f"{bwhere}.key", "missing or not a string")
        bsub = FieldReader("odds event", braw, "", ident=r.ident, prefix=f"{bwhere}.")
        b_update = bsub.timestamp("last_update")
        assert b_update is not None
        markets: list[BookMarket] = []
        for mi, mraw in enumerate(bsub.array("markets", required=False)):
            mwhere = f"{bwhere}.markets[{mi}]"
            if not isinstance(mraw, dict) or not isinstance(mraw.get("key"), str):
                raise r.fail(f"{mwhere}.key", "missing or not a string")
            m_update = b_update
            if mraw.get("last_update") is not None:
                msub = FieldReader("odds event", mraw, "", ident=r.ident, prefix=f"{mwhere}.")
                parsed = msub.timestamp("last_update")
                assert parsed is not None
                m_update = parsed
            raw_outcomes = mraw.get("outcomes")
            if not isinstance(raw_outcomes, list):
                raise r.fail(f"{mwhere}.outcomes", "missing or not an array")
            outcomes = tuple(_outcome(r, mwhere, oi, o, american) for oi, o in enumerate(raw_outcomes))
            markets.append(BookMarket(mraw["key"], m_update, outcomes))
        books.append(Bookmaker(braw["key"], str(braw.get("title", "")), b_update, tuple(markets)))
    return OddsEvent(
        id=r.ident,
        sport_key=r.string("sport_key"),
        commence_time=commence,
        home_team=r.string("home_team"),
        away_team=r.string("away_team"),
        bookmakers=tuple(books),
        sport_title=r.string("sport_title", required=False),
    )


__all__ = ["BookMarket", "Bookmaker", "OddsEvent", "Outcome", "PayloadError", "parse_odds_event"]
