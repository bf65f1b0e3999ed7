"""Kalshi WebSocket messages (websockets/*.md, asyncapi.yaml) parsed into immutable, typed records.

``parse_message`` turns one text frame into one record or raises :class:`ProtocolError`; the caller logs
and drops that one message and keeps the connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.connectors.errors import ProtocolError
from engine.errors import PayloadError
from engine.markets.fields import FieldReader
from engine.markets.kalshi import Level
from engine.money import parse_count, parse_decimal, parse_price


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
    command_id: int | None
    code: int | None
    message: str


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """Any other channel message (trade, fill, market_position, market_lifecycle_v2, user_order, ...),
    kept as the decoded ``msg`` object for the consumer of that channel."""

    type: str
    sid: int | None
    seq: int | None
    ticker: str | None
    msg: dict[str, Any] = field(default_factory=dict)


WsMessage = OrderbookSnapshot | OrderbookDelta | TickerUpdate | Subscribed | CommandAck | WsError | ChannelMessage


def _int(doc: dict[str, Any], key: str, *, required: bool) -> int | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise ProtocolError(f"kalshi ws message: field '{key}' missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"kalshi ws message: field '{key}' must be an integer, got {value!r}")
    return value


def _levels(ticker: str, raw: object, name: str) -> tuple[Level, ...]:
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
        if count > 0:
            merged[price] = merged.get(price, Decimal(0)) + count
    return tuple(Level(p, merged[p]) for p in sorted(merged, reverse=True))


def _snapshot(sid: int, seq: int, msg: dict[str, Any]) -> OrderbookSnapshot:
    r = FieldReader("kalshi ws snapshot", msg, "market_ticker")
    return OrderbookSnapshot(
        sid,
        seq,
        r.ident,
        _levels(r.ident, msg.get("yes_dollars_fp"), "yes_dollars_fp"),
        _levels(r.ident, msg.get("no_dollars_fp"), "no_dollars_fp"),
    )


def _delta(sid: int, seq: int, msg: dict[str, Any]) -> OrderbookDelta:
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


def parse_message(text: str | bytes) -> WsMessage:
    """One frame -> one typed message; any malformation is a :class:`ProtocolError` naming the problem."""
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
            return WsError(
                command_id, code if isinstance(code, int) else None, text_msg if isinstance(text_msg, str) else ""
            )
        if kind in ("orderbook_snapshot", "orderbook_delta"):
            if not isinstance(msg, dict):
                raise ProtocolError(f"kalshi ws {kind}: 'msg' must be an object")
            sid = _int(doc, "sid", required=True)
            seq = _int(doc, "seq", required=True)
            assert sid is not None and seq is not None
            return _snapshot(sid, seq, msg) if kind == "orderbook_snapshot" else _delta(sid, seq, msg)
        if kind == "ticker":
            if not isinstance(msg, dict):
                raise ProtocolError("kalshi ws ticker: 'msg' must be an object")
            sid = _int(doc, "sid", required=True)
            assert sid is not None
            return _ticker(sid, msg)
    except PayloadError as exc:
        raise ProtocolError(str(exc)) from None
    body = msg if isinstance(msg, dict) else {}
    ticker = body.get("market_ticker", body.get("ticker"))
    return ChannelMessage(
        kind,
        _int(doc, "sid", required=False),
        _int(doc, "seq", required=False),
        ticker if isinstance(ticker, str) else None,
        body,
    )
