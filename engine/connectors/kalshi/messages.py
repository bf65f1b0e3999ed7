"""Kalshi WebSocket messages (websockets/*.md, asyncapi.yaml) parsed into immutable, typed records.

``parse_message`` turns one text frame into one record or raises :class:`ProtocolError`; the caller logs
and drops that one message and keeps the connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.connectors.errors import ProtocolError
from engine.errors import PayloadError
from engine.markets.fields import FieldReader
from engine.markets.kalshi import Level
from engine.money import ONE, parse_count, parse_decimal, parse_price


@dataclass(frozen=True, slots=True)
class OrderbookSnapshot:
    sid: int
    seq: int
    ticker: str
    yes_bids: tuple[Level, ...]
    no_bids: tuple[Level, ...]


@dataclass(frozen=True, slots=True)
class OrderbookDelta:
    sid: int
    seq: int
    ticker: str
    side: str  # "yes" or "no": which bid ladder changes
    price: Decimal
    delta: Decimal
    client_order_id: str | None = None
    ts_ms: int | None = None


@dataclass(frozen=True, slots=True)
class TickerUpdate:
    sid: int
    ticker: str
    price: Decimal | None
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    volume: Decimal | None
    ts_ms: int | None


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    """``trade``: one public trade. ``taker_outcome_side`` is the side the taker is now positioned for."""

    sid: int
    trade_id: str
    ticker: str
    yes_price: Decimal
    count: Decimal
    taker_outcome_side: str  # "yes" or "no"
    is_block_trade: bool
    ts_ms: int | None


@dataclass(frozen=True, slots=True)
class FillUpdate:
    """``fill``: one of our fills. ``post_position`` is signed (positive YES, negative NO) when sent.
    ``fee_cost`` is required by the schema but missing from the documented example: None means not sent
    (reconcile with ``GET /portfolio/fills``), never zero."""

    sid: int
    trade_id: str
    order_id: str
    ticker: str
    outcome_side: str  # "yes" or "no"
    book_side: str  # "bid" (= outcome yes) or "ask" (= outcome no)
    yes_price: Decimal
    count: Decimal
    fee_cost: Decimal | None
    is_taker: bool
    post_position: Decimal | None
    client_order_id: str | None
    ts_ms: int | None
    subaccount: int | None


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    """``market_position``: our position in one market after a trade or settlement; ``position`` is signed."""

    sid: int
    ticker: str
    position: Decimal
    position_cost: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    position_fee_cost: Decimal
    volume: Decimal
    subaccount: int | None


@dataclass(frozen=True, slots=True)
class MarketLifecycle:
    """``market_lifecycle_v2``: a market was created, (de)activated, re-dated, determined or settled. The
    optional fields are present only for the event types the docs name for them."""

    sid: int
    ticker: str
    event_type: str
    result: str | None = None
    settlement_value: Decimal | None = None
    is_deactivated: bool | None = None
    open_ts: int | None = None
    close_ts: int | None = None
    determination_ts: int | None = None
    settled_ts: int | None = None


@dataclass(frozen=True, slots=True)
class UserOrderUpdate:
    """``user_order``: one of our orders was created, filled, canceled or otherwise changed."""

    sid: int
    order_id: str
    client_order_id: str
    ticker: str
    status: str  # resting, canceled, executed
    outcome_side: str
    book_side: str
    yes_price: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    initial_count: Decimal
    taker_fill_cost: Decimal
    maker_fill_cost: Decimal
    taker_fees: Decimal | None
    maker_fees: Decimal | None
    order_group_id: str | None
    created_ts_ms: int | None
    last_updated_ts_ms: int | None
    expiration_ts_ms: int | None


@dataclass(frozen=True, slots=True)
class OrderGroupUpdate:
    """``order_group_updates``: one of our order groups was created, triggered (its orders are canceled and
    new ones refused until reset), reset, deleted or re-limited. ``seq`` lets the consumer notice a gap."""

    sid: int
    seq: int | None
    event_type: str  # created, triggered, reset, deleted, limit_updated
    order_group_id: str
    contracts_limit: Decimal | None
    ts_ms: int | None


@dataclass(frozen=True, slots=True)
class Subscribed:
    command_id: int | None
    channel: str
    sid: int


@dataclass(frozen=True, slots=True)
class CommandAck:
    """``ok`` and ``unsubscribed`` answers. They carry the subscription's next ``seq`` (websocket-connection.md),
    so the sequence check must count them too."""

    type: str
    command_id: int | None
    sid: int | None
    seq: int | None = None
    body: Any = None


@dataclass(frozen=True, slots=True)
class WsError:
    """``market_ticker`` names the market when the error is about one (e.g. code 16, market not found)."""

    command_id: int | None
    code: int | None
    message: str
    market_ticker: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """A message of a type without a typed record (event_lifecycle, order_group_updates, ...), kept as the
    decoded ``msg`` object for the consumer of that channel."""

    type: str
    sid: int | None
    seq: int | None
    ticker: str | None
    msg: dict[str, Any] = field(default_factory=dict)


WsMessage = (
    OrderbookSnapshot
    | OrderbookDelta
    | TickerUpdate
    | TradeUpdate
    | FillUpdate
    | PositionUpdate
    | MarketLifecycle
    | UserOrderUpdate
    | OrderGroupUpdate
    | Subscribed
    | CommandAck
    | WsError
    | ChannelMessage
)
OUTCOME_SIDES = ("yes", "no")
BOOK_SIDE_OF = {"yes": "bid", "no": "ask"}
ORDER_STATUSES = ("resting", "canceled", "executed")


def _int(doc: dict[str, Any], key: str, *, required: bool) -> int | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise ProtocolError(f"kalshi ws message: field '{key}' missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"kalshi ws message: field '{key}' must be an integer, got {value!r}")
    return value


def _levels(ticker: str, raw: object, name: str, *, flip: bool = False) -> tuple[Level, ...]:
    """``[price, count]`` pairs, best first; ``flip`` turns yes-leg prices of NO levels back into NO prices."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PayloadError("kalshi ws snapshot", ticker, name, "expected an array of pairs")
    merged: dict[Decimal, Decimal] = {}
    for i, entry in enumerate(raw):
        if not (isinstance(entry, list) and len(entry) == 2):
            raise PayloadError("kalshi ws snapshot", ticker, f"{name}[{i}]", f"expected a pair, got {entry!r}")
        try:
            price, count = parse_price(entry[0]), parse_count(entry[1])
        except ValueError as exc:
            raise PayloadError("kalshi ws snapshot", ticker, f"{name}[{i}]", str(exc)) from None
        if flip:
            price = ONE - price
        if count > 0:
            merged[price] = merged.get(price, Decimal(0)) + count
    return tuple(Level(p, merged[p]) for p in sorted(merged, reverse=True))


def _snapshot(sid: int, seq: int, msg: dict[str, Any], yes_leg: bool) -> OrderbookSnapshot:
    r = FieldReader("kalshi ws snapshot", msg, "market_ticker")
    return OrderbookSnapshot(
        sid,
        seq,
        r.ident,
        _levels(r.ident, msg.get("yes_dollars_fp"), "yes_dollars_fp"),
        _levels(r.ident, msg.get("no_dollars_fp"), "no_dollars_fp", flip=yes_leg),
    )


def _delta(sid: int, seq: int, msg: dict[str, Any], yes_leg: bool) -> OrderbookDelta:
    r = FieldReader("kalshi ws delta", msg, "market_ticker")
    side = r.string("side")
    if side not in ("yes", "no"):
        raise r.fail("side", f"expected 'yes' or 'no', got {side!r}")
    price = r.price("price_dollars")
    raw_delta = r.obj.get("delta_fp")
    try:
        delta = parse_decimal(raw_delta)
    except ValueError as exc:
        raise r.fail("delta_fp", str(exc)) from None
    assert price is not None
    if yes_leg and side == "no":
        price = ONE - price
    cid = msg.get("client_order_id")
    ts_ms = msg.get("ts_ms")
    return OrderbookDelta(
        sid,
        seq,
        r.ident,
        side,
        price,
        delta,
        cid if isinstance(cid, str) else None,
        ts_ms if isinstance(ts_ms, int) and not isinstance(ts_ms, bool) else None,
    )


def _ticker(sid: int, msg: dict[str, Any]) -> TickerUpdate:
    r = FieldReader("kalshi ws ticker", msg, "market_ticker")
    ts_ms = msg.get("ts_ms")
    return TickerUpdate(
        sid,
        r.ident,
        r.price("price_dollars", required=False),
        r.price("yes_bid_dollars", required=False),
        r.price("yes_ask_dollars", required=False),
        r.count("volume_fp", required=False),
        ts_ms if isinstance(ts_ms, int) and not isinstance(ts_ms, bool) else None,
    )


def _need(value: Decimal | None) -> Decimal:
    assert value is not None  # required=True readers raise instead of returning None
    return value


def _side(r: FieldReader, name: str, allowed: tuple[str, ...]) -> str | None:
    value = r.string(name, required=False)
    if value and value not in allowed:
        raise r.fail(name, f"expected one of {', '.join(allowed)}, got {value!r}")
    return value or None


def _outcome(r: FieldReader, legacy: str | None) -> tuple[str, str]:
    """``(outcome_side, book_side)`` from the canonical fields, else from the deprecated ``legacy`` outcome;
    the two must agree when both are sent."""
    outcome = _side(r, "outcome_side", OUTCOME_SIDES) or legacy
    book = _side(r, "book_side", ("bid", "ask"))
    if outcome is None:
        if book is None:
            raise r.fail("outcome_side", "missing (and no book_side or legacy side to derive it from)")
        outcome = "yes" if book == "bid" else "no"
    if book is not None and BOOK_SIDE_OF[outcome] != book:
        raise r.fail("book_side", f"{book!r} contradicts outcome_side {outcome!r}")
    return outcome, BOOK_SIDE_OF[outcome]


def _trade(sid: int, msg: dict[str, Any]) -> TradeUpdate:
    r = FieldReader("kalshi ws trade", msg, "trade_id")
    taker = _side(r, "taker_outcome_side", OUTCOME_SIDES) or _side(r, "taker_side", OUTCOME_SIDES)
    if taker is None:
        raise r.fail("taker_outcome_side", "missing (and no taker_side)")
    book = _side(r, "taker_book_side", ("bid", "ask"))
    if book is not None and BOOK_SIDE_OF[taker] != book:
        raise r.fail("taker_book_side", f"{book!r} contradicts taker_outcome_side {taker!r}")
    return TradeUpdate(
        sid,
        r.ident,
        r.string("market_ticker"),
        _need(r.price("yes_price_dollars")),
        _need(r.count("count_fp")),
        taker,
        r.boolean("is_block_trade", required=False) or False,
        r.integer("ts_ms", required=False),
    )


def _fill(sid: int, msg: dict[str, Any]) -> FillUpdate:
    r = FieldReader("kalshi ws fill", msg, "trade_id")
    legacy = _side(r, "side", OUTCOME_SIDES)
    action = _side(r, "action", ("buy", "sell"))
    if legacy is not None and action == "sell":
        legacy = "no" if legacy == "yes" else "yes"
    outcome, book = _outcome(r, legacy or _side(r, "purchased_side", OUTCOME_SIDES))
    is_taker = r.boolean("is_taker", required=True)
    cid = r.string("client_order_id", required=False)
    return FillUpdate(
        sid,
        r.ident,
        r.string("order_id"),
        r.string("market_ticker"),
        outcome,
        book,
        _need(r.price("yes_price_dollars")),
        _need(r.count("count_fp")),
        r.amount("fee_cost", required=False),
        bool(is_taker),
        r.amount("post_position_fp", required=False),
        cid or None,
        r.integer("ts_ms", required=False),
        r.integer("subaccount", required=False),
    )


def _position(sid: int, msg: dict[str, Any]) -> PositionUpdate:
    r = FieldReader("kalshi ws market_position", msg, "market_ticker")
    return PositionUpdate(
        sid,
        r.ident,
        _need(r.amount("position_fp")),
        _need(r.amount("position_cost_dollars")),
        _need(r.amount("realized_pnl_dollars")),
        _need(r.amount("fees_paid_dollars")),
        _need(r.amount("position_fee_cost_dollars")),
        _need(r.count("volume_fp")),
        r.integer("subaccount", required=False),
    )


def _lifecycle(sid: int, msg: dict[str, Any]) -> MarketLifecycle:
    r = FieldReader("kalshi ws market_lifecycle_v2", msg, "market_ticker")
    result = r.string("result", required=False)
    return MarketLifecycle(
        sid,
        r.ident,
        r.string("event_type"),
        result or None,
        r.price("settlement_value", required=False),
        r.boolean("is_deactivated", required=False),
        r.integer("open_ts", required=False),
        r.integer("close_ts", required=False),
        r.integer("determination_ts", required=False),
        r.integer("settled_ts", required=False),
    )


def _user_order(sid: int, msg: dict[str, Any]) -> UserOrderUpdate:
    r = FieldReader("kalshi ws user_order", msg, "order_id")
    status = r.string("status")
    if status not in ORDER_STATUSES:
        raise r.fail("status", f"expected one of {', '.join(ORDER_STATUSES)}, got {status!r}")
    outcome, book = _outcome(r, _side(r, "side", OUTCOME_SIDES))
    group = r.string("order_group_id", required=False)
    return UserOrderUpdate(
        sid,
        r.ident,
        r.string("client_order_id", required=False),
        r.string("ticker"),
        status,
        outcome,
        book,
        _need(r.price("yes_price_dollars")),
        _need(r.count("fill_count_fp")),
        _need(r.count("remaining_count_fp")),
        _need(r.count("initial_count_fp")),
        _need(r.amount("taker_fill_cost_dollars")),
        _need(r.amount("maker_fill_cost_dollars")),
        r.amount("taker_fees_dollars", required=False),
        r.amount("maker_fees_dollars", required=False),
        group or None,
        r.integer("created_ts_ms", required=False),
        r.integer("last_updated_ts_ms", required=False),
        r.integer("expiration_ts_ms", required=False),
    )


GROUP_EVENTS = ("created", "triggered", "reset", "deleted", "limit_updated")


def _order_group(sid: int, seq: int | None, msg: dict[str, Any]) -> OrderGroupUpdate:
    r = FieldReader("kalshi ws order_group_updates", msg, "order_group_id")
    event = r.string("event_type")
    if event not in GROUP_EVENTS:
        raise r.fail("event_type", f"expected one of {', '.join(GROUP_EVENTS)}, got {event!r}")
    return OrderGroupUpdate(
        sid, seq, event, r.ident, r.count("contracts_limit_fp", required=False), r.integer("ts_ms", required=False)
    )


CHANNEL_PARSERS: dict[str, Callable[[int, dict[str, Any]], WsMessage]] = {
    "ticker": _ticker,
    "trade": _trade,
    "fill": _fill,
    "market_position": _position,
    "market_lifecycle_v2": _lifecycle,
    "user_order": _user_order,
}


def parse_message(text: str | bytes, *, yes_leg_book: bool = False) -> WsMessage:
    """One frame -> one typed message; any malformation is a :class:`ProtocolError` naming the problem.

    ``yes_leg_book``: the orderbook subscription asked for ``use_yes_price``, so NO-side snapshot levels and
    deltas arrive in yes-leg pricing (order_direction.md); they are turned back into NO bid prices, so
    :class:`OrderbookSnapshot` and :class:`OrderbookDelta` always carry NO prices on the NO side."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"kalshi ws message is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ProtocolError(f"kalshi ws message must be a JSON object, got {type(doc).__name__}")
    kind = doc.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("kalshi ws message has no string 'type'")
    command_id = _int(doc, "id", required=False)
    msg = doc.get("msg")
    try:
        if kind == "subscribed":
            if not isinstance(msg, dict):
                raise ProtocolError("kalshi ws subscribed: 'msg' must be an object")
            channel = msg.get("channel")
            sid = _int(msg, "sid", required=True)
            assert sid is not None
            return Subscribed(command_id, channel if isinstance(channel, str) else "", sid)
        if kind in ("ok", "unsubscribed"):
            return CommandAck(kind, command_id, _int(doc, "sid", required=False), _int(doc, "seq", required=False), msg)
        if kind == "error":
            body = msg if isinstance(msg, dict) else {}
            code = body.get("code")
            text_msg = body.get("msg")
            market = body.get("market_ticker")
            return WsError(
                command_id,
                code if isinstance(code, int) and not isinstance(code, bool) else None,
                text_msg if isinstance(text_msg, str) else "",
                market if isinstance(market, str) and market else None,
            )
        if kind in ("orderbook_snapshot", "orderbook_delta"):
            if not isinstance(msg, dict):
                raise ProtocolError(f"kalshi ws {kind}: 'msg' must be an object")
            sid = _int(doc, "sid", required=True)
            seq = _int(doc, "seq", required=True)
            assert sid is not None and seq is not None
            if kind == "orderbook_snapshot":
                return _snapshot(sid, seq, msg, yes_leg_book)
            return _delta(sid, seq, msg, yes_leg_book)
        if kind == "order_group_updates":
            if not isinstance(msg, dict):
                raise ProtocolError("kalshi ws order_group_updates: 'msg' must be an object")
            sid = _int(doc, "sid", required=True)
            assert sid is not None
            return _order_group(sid, _int(doc, "seq", required=False), msg)
        parser = CHANNEL_PARSERS.get(kind)
        if parser is not None:
            if not isinstance(msg, dict):
                raise ProtocolError(f"kalshi ws {kind}: 'msg' must be an object")
            sid = _int(doc, "sid", required=True)
            assert sid is not None
            return parser(sid, msg)
    except PayloadError as exc:
        raise ProtocolError(str(exc)) from exc
    body = msg if isinstance(msg, dict) else {}
    ticker = body.get("market_ticker", body.get("ticker"))
    return ChannelMessage(
        kind,
        _int(doc, "sid", required=False),
        _int(doc, "seq", required=False),
        ticker if isinstance(ticker, str) else None,
        body,
    )
