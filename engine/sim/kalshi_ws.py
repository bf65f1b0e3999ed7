"""The Kalshi WebSocket server at ``/trade-api/ws/v2``: signed handshake, subscribe / unsubscribe /
update_subscription / list_subscriptions, and the channels an arbitrage engine uses.

Orderbook messages carry a per-subscription ``seq``; the server pings every ``ws_ping_interval_s`` with
body ``heartbeat`` and answers client pings. Faults (stall, malformed, seq gap, abrupt drop, latency) are
applied on the way out, per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from engine.money import ONE
from engine.sim.auth import AuthError, verify
from engine.sim.context import SimContext
from engine.sim.payloads import dollars
from engine.sim.records import (
    BookChange,
    ExchangeEvent,
    FillEvent,
    OrderChange,
    OrderGroupChange,
    PositionChange,
    TickerChange,
    Trade,
)
from engine.sim.ws_messages import (
    delta_msg,
    fill_msg,
    lifecycle_msgs,
    order_group_msg,
    position_msg,
    snapshot_msg,
    ticker_msg,
    trade_msg,
    user_order_msg,
)

WS_PATH = "/trade-api/ws/v2"
MARKET_CHANNELS = ("orderbook_delta", "ticker", "trade", "market_lifecycle_v2")
USER_CHANNELS = ("fill", "market_positions", "user_orders", "order_group_updates")
CHANNELS = MARKET_CHANNELS + USER_CHANNELS
UNFILTERED_CHANNELS = frozenset({"market_lifecycle_v2", "order_group_updates"})
GARBAGE = '{"type": "orderbook_delta", "msg": {'


@dataclass(slots=True)
class Subscription:
    sid: int
    channel: str
    tickers: set[str] | None  # None: every market
    seq: int = 0
    yes_price: bool = False
    """``use_yes_price``: NO-side book levels in yes-leg pricing (order_direction.md)."""

    def covers(self, ticker: str) -> bool:
        return self.tickers is None or ticker in self.tickers


@dataclass(slots=True, eq=False)
class Connection:
    ws: web.WebSocketResponse
    request: web.Request
    subs: dict[int, Subscription] = field(default_factory=dict)
    queue: asyncio.Queue[tuple[float, str]] = field(default_factory=asyncio.Queue)
    sids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def abort(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()


def _wanted(channel: str, tickers: list[str] | None) -> set[str] | None:
    """The markets a new subscription covers; ``market_lifecycle_v2`` takes no market filter (it gets all)."""
    if tickers is None or channel in UNFILTERED_CHANNELS:
        return None
    return set(tickers)


class CommandError(Exception):
    def __init__(self, code: int, message: str, market_ticker: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.market_ticker = market_ticker


class WebSocketHub:
    """Every open connection, fed by the exchange's events."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.connections: set[Connection] = set()
        self.sent = 0
        self._status: dict[str, str] = {}
        ctx.exchange.subscribe(self._on_event)
        ctx.faults.on_drop(self.drop_all)

    def install(self, app: web.Application) -> None:
        app.router.add_get(WS_PATH, self.handle)

    # -- connection lifecycle ----------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        headers = {k.upper(): v for k, v in request.headers.items() if k.upper().startswith("KALSHI-ACCESS-")}
        try:
            verify(
                self.ctx.credentials,
                headers,
                "GET",
                request.path,
                self.ctx.now_ms(),
                int(self.ctx.config.signature_window_s * 1000),
            )
        except AuthError as exc:
            return web.json_response({"code": "unauthorized", "message": str(exc), "details": ""}, status=401)
        ws = web.WebSocketResponse(autoping=True, heartbeat=None, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = Connection(ws, request)
        self.connections.add(conn)
        writer = asyncio.create_task(self._writer(conn))
        pinger = asyncio.create_task(self._pinger(conn))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._command(conn, message.data)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            self.connections.discard(conn)
            for task in (writer, pinger):
                task.cancel()
            for task in (writer, pinger):
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await task
        return ws

    async def _writer(self, conn: Connection) -> None:
        faults = self.ctx.faults
        loop = asyncio.get_running_loop()
        while True:
            queued_at, text = await conn.queue.get()
            while faults.stalled:
                await asyncio.sleep(0.02)
            # latency delays each message from when it was produced, so a burst is late, not serialised
            delay = queued_at + faults.latency_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if faults.take_malformed():
                text = GARBAGE
            if conn.ws.closed:
                return
            try:
                await conn.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return
            self.sent += 1

    async def _pinger(self, conn: Connection) -> None:
        interval = self.ctx.config.ws_ping_interval_s
        while not conn.ws.closed:
            await asyncio.sleep(interval)
            if self.ctx.faults.stalled or conn.ws.closed:
                continue
            try:
                await conn.ws.ping(b"heartbeat")
            except (ConnectionError, RuntimeError):
                return

    def overflow_all(self) -> None:
        """Tell every connection its subscription buffer overflowed (error code 25): messages were lost."""
        for conn in list(self.connections):
            self._send(conn, {"type": "error", "msg": {"code": 25, "msg": "Subscription buffer overflow"}})

    def drop_all(self) -> None:
        for conn in list(self.connections):
            conn.abort()

    async def close_all(self) -> None:
        for conn in list(self.connections):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.close(code=1001, message=b"simulator shutting down")

    # -- commands ----------------------------------------------------------------------------------------
    def _send(self, conn: Connection, body: dict[str, Any]) -> None:
        conn.queue.put_nowait((asyncio.get_running_loop().time(), json.dumps(body, separators=(",", ":"))))

    def _command(self, conn: Connection, data: str) -> None:
        cmd_id: Any = None
        try:
            try:
                doc = json.loads(data)
            except json.JSONDecodeError:
                raise CommandError(1, "Unable to process message") from None
            if not isinstance(doc, dict):
                raise CommandError(1, "Unable to process message")
            cmd_id = doc.get("id")
            cmd = doc.get("cmd")
            params = doc.get("params")
            if cmd == "list_subscriptions":
                subs = [{"channel": s.channel, "sid": s.sid} for s in conn.subs.values()]
                self._send(conn, {"id": cmd_id, "type": "ok", "msg": subs})
                return
            if cmd not in ("subscribe", "unsubscribe", "update_subscription"):
                raise CommandError(5, "Unknown command")
            if not isinstance(params, dict):
                raise CommandError(2, "Params required")
            if cmd == "subscribe":
                self._subscribe(conn, cmd_id, params)
            elif cmd == "unsubscribe":
                self._unsubscribe(conn, cmd_id, params)
            else:
                self._update(conn, cmd_id, params)
        except CommandError as exc:
            body: dict[str, Any] = {"code": exc.code, "msg": str(exc)}
            if exc.market_ticker:
                body["market_ticker"] = exc.market_ticker
            self._send(conn, {"id": cmd_id, "type": "error", "msg": body})

    def _tickers(self, params: dict[str, Any]) -> list[str] | None:
        single = params.get("market_ticker")
        many = params.get("market_tickers")
        if single is None and many is None:
            return None
        out: list[str] = []
        if isinstance(single, str):
            out.append(single)
        elif single is not None:
            raise CommandError(11, "Invalid parameter")
        if isinstance(many, list) and all(isinstance(t, str) for t in many):
            out.extend(many)
        elif many is not None:
            raise CommandError(11, "Invalid parameter")
        for ticker in out:
            if ticker not in self.ctx.exchange.markets:
                raise CommandError(16, "Market not found", ticker)
        return out

    def _subscribe(self, conn: Connection, cmd_id: Any, params: dict[str, Any]) -> None:
        channels = params.get("channels")
        if not isinstance(channels, list) or not channels:
            raise CommandError(3, "Channels required")
        if any(c not in CHANNELS for c in channels):
            raise CommandError(8, "Unknown channel name")
        tickers = self._tickers(params)
        if "orderbook_delta" in channels and not tickers:
            raise CommandError(14, "Market Ticker required")
        yes_price = params.get("use_yes_price", False)
        if not isinstance(yes_price, bool):
            raise CommandError(11, "Invalid parameter")
        for channel in channels:
            if any(s.channel == channel and s.tickers == _wanted(channel, tickers) for s in conn.subs.values()):
                raise CommandError(6, "Already subscribed")
        for channel in channels:
            sub = Subscription(next(conn.sids), channel, _wanted(channel, tickers), yes_price=yes_price)
            conn.subs[sub.sid] = sub
            self._send(conn, {"id": cmd_id, "type": "subscribed", "msg": {"channel": channel, "sid": sub.sid}})
            if channel == "orderbook_delta":
                for ticker in tickers or ():
                    self._snapshot(conn, sub, ticker)

    def _snapshot(self, conn: Connection, sub: Subscription, ticker: str) -> None:
        sub.seq += 1
        state = self.ctx.exchange.markets[ticker]
        msg = snapshot_msg(state, yes_price=sub.yes_price)
        self._send(conn, {"type": "orderbook_snapshot", "sid": sub.sid, "seq": sub.seq, "msg": msg})

    def _unsubscribe(self, conn: Connection, cmd_id: Any, params: dict[str, Any]) -> None:
        sids = params.get("sids")
        if not isinstance(sids, list) or not sids:
            raise CommandError(4, "Subscription IDs required")
        for sid in sids:
            sub = conn.subs.pop(sid, None) if isinstance(sid, int) else None
            if sub is None:
                raise CommandError(7, "Unknown subscription ID")
            self._send(conn, {"id": cmd_id, "sid": sid, "seq": sub.seq + 1, "type": "unsubscribed"})

    def _update(self, conn: Connection, cmd_id: Any, params: dict[str, Any]) -> None:
        sids = params.get("sids")
        if sids is None and "sid" in params:
            sids = [params["sid"]]
        if not isinstance(sids, list) or len(sids) != 1:
            raise CommandError(12, "Exactly one subscription ID is required")
        sub = conn.subs.get(sids[0]) if isinstance(sids[0], int) else None
        if sub is None:
            raise CommandError(7, "Unknown subscription ID")
        action = params.get("action")
        if not action:
            raise CommandError(15, "Action required")
        tickers = self._tickers(params)
        if not tickers:
            raise CommandError(14, "Market Ticker required")
        if action == "add_markets":
            if sub.tickers is not None:
                sub.tickers.update(tickers)
            if sub.channel == "orderbook_delta":
                for ticker in tickers:
                    self._snapshot(conn, sub, ticker)
        elif action == "delete_markets":
            if sub.tickers is not None:
                sub.tickers.difference_update(tickers)
        elif action == "get_snapshot":
            if sub.channel != "orderbook_delta":
                raise CommandError(13, "Unsupported action")
            for ticker in tickers:
                self._snapshot(conn, sub, ticker)
        else:
            raise CommandError(13, "Unsupported action")
        listed = sorted(sub.tickers) if sub.tickers is not None else []
        sub.seq += 1
        self._send(
            conn, {"id": cmd_id, "sid": sub.sid, "seq": sub.seq, "type": "ok", "msg": {"market_tickers": listed}}
        )

    # -- exchange events ---------------------------------------------------------------------------------
    def _on_event(self, event: ExchangeEvent) -> None:
        """Turn one exchange event into channel messages; payloads are built only when someone listens."""
        if not self.connections:
            return
        now = self.ctx.now()
        ex = self.ctx.exchange
        if isinstance(event, BookChange):
            if self._watching("orderbook_delta", event.ticker) and not self.ctx.faults.books_stalled:
                gap = self.ctx.faults.take_seq_gap(event.ticker)
                msg = delta_msg(event, now)
                yes_leg = {**msg, "price_dollars": dollars(ONE - event.price)} if event.side == "no" else msg
                self._fan("orderbook_delta", event.ticker, "orderbook_delta", msg, seq=True, gap=gap, yes_leg=yes_leg)
        elif isinstance(event, TickerChange):
            if self._watching("ticker", event.ticker):
                body = ticker_msg(ex, event.ticker, now)
                if skew := self.ctx.faults.ticker_skew:
                    for key in ("yes_bid_dollars", "yes_ask_dollars"):
                        body[key] = dollars(min(ONE, max(Decimal(0), Decimal(body[key]) + skew)))
                self._fan("ticker", event.ticker, "ticker", body)
            state = ex.markets[event.ticker]
            if self._status.get(event.ticker, "active") != state.status:
                self._status[event.ticker] = state.status
                for body in lifecycle_msgs(state, now):
                    self._fan("market_lifecycle_v2", event.ticker, "market_lifecycle_v2", body)
        elif isinstance(event, Trade):
            self._fan("trade", event.ticker, "trade", trade_msg(event))
        elif isinstance(event, FillEvent):
            shard = ex.shard_of(event.fill.ticker)
            self._fan("fill", event.fill.ticker, "fill", fill_msg(event.fill, shard))
        elif isinstance(event, PositionChange):
            self._fan("market_positions", event.ticker, "market_position", position_msg(ex, event.ticker))
        elif isinstance(event, OrderChange):
            order = ex.orders[event.order_id]
            self._fan("user_orders", order.ticker, "user_order", user_order_msg(order))
        elif isinstance(event, OrderGroupChange):
            body = order_group_msg(event, now)
            self._fan("order_group_updates", "", "order_group_updates", body, seq=True)

    def _watching(self, channel: str, ticker: str) -> bool:
        return any(s.channel == channel and s.covers(ticker) for c in self.connections for s in c.subs.values())

    def _fan(
        self,
        channel: str,
        ticker: str,
        kind: str,
        msg: dict[str, Any],
        *,
        seq: bool = False,
        gap: bool = False,
        yes_leg: dict[str, Any] | None = None,
    ) -> None:
        """Send ``msg`` to every subscription covering ``ticker``; ``yes_leg`` to those with use_yes_price."""
        for conn in self.connections:
            for sub in conn.subs.values():
                if sub.channel != channel or not sub.covers(ticker):
                    continue
                body: dict[str, Any] = {"type": kind, "sid": sub.sid}
                if seq:
                    sub.seq += 2 if gap else 1
                    gap = False
                    body["seq"] = sub.seq
                body["msg"] = yes_leg if yes_leg is not None and sub.yes_price else msg
                self._send(conn, body)
