"""Engine data as time-series rows (pure: no I/O, no clock; every row carries the instant it was seen).

A :class:`Row` is what one ILP line or one SQLite insert holds: a table, its symbol values, its other
columns and its designated timestamp. Money becomes an exact integer of millionths of a dollar
(:func:`e6`); a value that would need rounding to fit is refused rather than silently changed, except the
expected value, which is an estimate and is rounded (its column says so).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from engine.detection.signals import Signal
from engine.execution.model import FillRecord
from engine.markets.kalshi import Orderbook
from engine.markets.odds import OddsEvent
from engine.timeseries.schema import FAIR_VALUES, FILLS, KALSHI_BOOKS, ODDS_QUOTES, SIGNALS

Value = bool | int | float | str | datetime
MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class Row:
    table: str
    symbols: Mapping[str, str]
    columns: Mapping[str, Value | None]
    """A ``None`` value is left out of the line (NULL in the table)."""
    ts: datetime


def e6(amount: Decimal) -> int:
    """Dollars as an exact integer of millionths; :class:`ValueError` when that would round."""
    scaled = amount * MILLION
    whole = scaled.to_integral_value()
    if whole != scaled:
        raise ValueError(f"{amount} dollars is not a whole number of millionths")
    return int(whole)


def e6_rounded(amount: Decimal) -> int:
    """An estimate (expected value) in millionths of a dollar, rounded half-even."""
    return int((amount * MILLION).to_integral_value(rounding=ROUND_HALF_EVEN))


def book_row(ticker: str, book: Orderbook | None, now: datetime) -> Row:
    if book is None:
        return Row(KALSHI_BOOKS.name, {"ticker": ticker}, {"trusted": False}, now)
    best_bid = book.yes_bids[0] if book.yes_bids else None
    best_ask = book.best_ask("yes")
    columns: dict[str, Value | None] = {
        "trusted": True,
        "yes_bid_e6": None if best_bid is None else e6(best_bid.price),
        "yes_ask_e6": None if best_ask is None else e6(best_ask.price),
        "yes_bid_size": None if best_bid is None else float(best_bid.count),
        "yes_ask_size": None if best_ask is None else float(best_ask.count),
        "yes_depth": float(sum((lv.count for lv in book.yes_bids), Decimal(0))),
        "no_depth": float(sum((lv.count for lv in book.no_bids), Decimal(0))),
        "yes_levels": len(book.yes_bids),
        "no_levels": len(book.no_bids),
    }
    return Row(KALSHI_BOOKS.name, {"ticker": ticker}, columns, now)


def odds_rows(sport: str, events: Sequence[OddsEvent], now: datetime) -> Iterator[Row]:
    for event in events:
        for bookmaker in event.bookmakers:
            for market in bookmaker.markets:
                for outcome in market.outcomes:
                    american = outcome.american
                    yield Row(
                        ODDS_QUOTES.name,
                        {"sport": sport, "event_id": event.id, "book": bookmaker.key, "market": market.key,
                         "outcome": outcome.name},
                        {
                            "american": _whole(american),
                            "decimal_odds": float(outcome.decimal_odds),
                            "implied": outcome.implied,
                            "point": None if outcome.point is None else float(outcome.point),
                            "quoted_at": market.last_update,
                        },
                        now,
                    )  # fmt: skip


def _whole(value: Decimal | None) -> int | None:
    return int(value) if value is not None and value == value.to_integral_value() else None


def signal_rows(changed: Sequence[Signal], gone: Sequence[Signal], now: datetime) -> Iterator[Row]:
    """One ``signals`` row per signal (``live`` false for those that went) and its fair values."""
    for signal, live in [*((s, True) for s in changed), *((s, False) for s in gone)]:
        symbols = {"ticker": signal.ticker, "kind": signal.kind.value, "side": signal.side.value,
                   "event_ticker": signal.event_ticker}  # fmt: skip
        columns: dict[str, Value | None] = {
            "live": live,
            "edge": float(signal.edge),
            "margin": None if signal.margin is None else float(signal.margin),
            "fair": signal.fair,
            "books_agree": signal.books_agree,
            "count": signal.count,
            "ask_e6": e6(signal.ask),
            "limit_e6": e6(signal.limit_price),
            "cost_e6": e6_rounded(signal.cost),
            "fees_e6": e6_rounded(signal.fees),
            "ev_e6": e6_rounded(signal.ev),
        }
        yield Row(SIGNALS.name, symbols, columns, now)
        if not live:
            continue
        side = {"ticker": signal.ticker, "side": signal.side.value}
        if signal.fair is not None:
            yield Row(FAIR_VALUES.name, {**side, "book": "consensus"}, {"prob": signal.fair}, now)
        for book, prob in sorted(signal.books.items()):
            yield Row(FAIR_VALUES.name, {**side, "book": book}, {"prob": prob}, now)


def fill_row(fill: FillRecord) -> Row:
    return Row(
        FILLS.name,
        {"ticker": fill.ticker, "side": fill.side.value, "action": fill.action.value, "mode": fill.mode.value},
        {
            "fill_id": fill.fill_id,
            "client_order_id": fill.client_order_id,
            "count": fill.count,
            "price_e6": e6(fill.price),
            "fee_e6": e6(fill.fee),
            "taker": fill.is_taker,
        },
        fill.ts,
    )


def plain(row: Row) -> dict[str, Any]:
    """The row's values in one mapping (symbols and columns), ``None`` left out: for the local history."""
    return {"ts": row.ts, **row.symbols, **{k: v for k, v in row.columns.items() if v is not None}}
