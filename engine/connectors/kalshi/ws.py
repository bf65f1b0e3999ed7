"""Kalshi WebSocket client: signed handshake on ``/trade-api/ws/v2``, subscriptions that survive reconnects,
one local order book per market, and per-market staleness for the risk layer.

The connection loop never dies from one message: a malformed frame is counted, logged and dropped. A
``seq`` gap asks for a fresh snapshot (``update_subscription`` / ``get_snapshot``) and the affected books
read as stale until it arrives. A dropped socket reconnects with jittered backoff and re-subscribes
everything; websockets answers the server's ``heartbeat`` pings with pongs by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from engine.clock import SYSTEM_CLOCK
from engine.config.settings import Settings
from engine.connectors.errors import KeyFileError, ProtocolError
from engine.connectors.kalshi.local_book import BookUpdate, LocalBooks
from engine.connectors.kalshi.messages import (
    CommandAck,
    FillUpdate,
    OrderbookDelta,
    OrderbookSnapshot,
    OrderGroupUpdate,
    PositionUpdate,
    Subscribed,
    TickerUpdate,
    UserOrderUpdate,
    WsError,
    WsMessage,
    parse_message,
)
from engine.connectors.kalshi.signing import AUTH_HEADERS, KalshiSigner
from engine.markets.kalshi import Orderbook

log = logging.getLogger(__name__)


class _RedactAuthHeaders(logging.Filter):
    """websockets logs every handshake header at DEBUG ("> %s: %s"); the KALSHI-ACCESS-* values stay out."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and str(args[0]).upper() in AUTH_HEADERS:
            record.args = (args[0], "<redacted>")
        return True


_REDACTOR = _RedactAuthHeaders()
for _name in ("websockets", "websockets.client"):
    if _REDACTOR not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_REDACTOR)

ORDERBOOK = "orderbook_delta"
CHANNELS = frozenset(
    {
        "orderbook_delta", "ticker", "trade", "fill", "market_positions", "market_lifecycle_v2", "user_orders",
        "order_group_updates",
    }
)  # fmt: skip
ACCOUNT_EVENTS = (FillUpdate, UserOrderUpdate, PositionUpdate, OrderGroupUpdate, WsError)
"""Messages about our own account: never dropped silently."""
UNFILTERED = frozenset({"market_lifecycle_v2", "order_group_updates"})
"""Channels that take no market filter (market-and-event-lifecycle.md, order-group-updates.md)."""


MARKET_NOT_FOUND = 16
BUFFER_OVERFLOW = 25
"""WebSocket error code: the subscription's outbound buffer was exceeded, so messages were lost."""


BookWatcher = Callable[[Sequence[str], Sequence[str]], None]
"""``watcher(changed, untrusted)``: told inside the reader, before the next message is read, which local books
changed and which can no longer be trusted (a ``seq`` gap, a lost connection, a resync), so a consumer
re-prices with no queue hop and never trades on a book the client has given up on."""
TickerWatcher = Callable[[TickerUpdate], None]
"""Told of every ``ticker`` message inside the reader, in stream order with the book messages."""
MAX_TURN_S = 0.002
"""The reader hands the loop back after this much work when frames keep arriving, so a burst of thousands
of deltas never blocks timers, orders or the control socket for longer."""


READ_CHUNK = 32 * 1024
"""Bytes taken from the socket per read. The websockets library parses every frame of a read in one
callback; asyncio's default read (256 KiB, a couple of thousand book deltas in a price burst) kept the loop
for several milliseconds before our reader could yield. A smaller read is parsed in well under one."""


def bound_reads(transport: object) -> None:
    """Cap a plain TCP transport's read size at :data:`READ_CHUNK` (asyncio reads ``transport.max_size``
    bytes per ready event). A TLS transport reads through its SSL layer and is left as it is."""
    if isinstance(getattr(transport, "max_size", None), int):
        transport.max_size = READ_CHUNK  # type: ignore[attr-defined]


class _Reconnect(Exception):
    """Raised from a handler to drop the connection and start over with fresh subscriptions and snapshots."""


@dataclass(slots=True)
class _Subscription:
    """What we want, kept across reconnects; ``sids`` are what the current connection assigned."""

    handle: int
    channels: tuple[str, ...]
    markets: list[str]
    sids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delay: exponential, capped, with equal jitter (never ~0, so a refusing server is not
    hammered)."""

    base_s: float = 0.1
    cap_s: float = 5.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int) -> float:
        d = min(self.cap_s, self.base_s * float(2 ** max(0, attempt - 1)))
        return d / 2 + self.rng.uniform(0, d / 2)


WS_HOSTS = {"external-api.kalshi.com": "external-api-ws.kalshi.com",
            "external-api.demo.kalshi.co": "external-api-ws.demo.kalshi.co"}  # fmt: skip


def ws_url_for(rest_base_url: str) -> str:
    """The WebSocket URL that goes with a REST base URL (api_environments.md): the dedicated external-api
    hosts have ``-ws`` twins; every other host (shared hosts, the simulator) serves both on one port."""
    parts = urlsplit(rest_base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    host = parts.netloc
    if parts.hostname in WS_HOSTS:
        host = host.replace(parts.hostname, WS_HOSTS[parts.hostname])
    base = parts.path.rstrip("/").removesuffix("/v2").removesuffix("/trade-api")
    return urlunsplit((scheme, host, f"{base}/trade-api/ws/v2", "", ""))


class KalshiWebSocket:
    """``async with KalshiWebSocket(ws_url, signer) as ws: await ws.subscribe(["orderbook_delta"], tickers)``."""

    def __init__(
        self,
        url: str,
        signer: KalshiSigner | None,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = SYSTEM_CLOCK.ms,
        open_timeout_s: float = 10.0,
        resync_timeout_s: float = 2.0,
        max_events: int = 10_000,
    ) -> None:
        self.url = url
        self._signer = signer
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._wall_ms = wall_ms
        self._open_timeout_s = open_timeout_s
        self._resync_timeout_s = resync_timeout_s
        self.books = LocalBooks()
        self.events: asyncio.Queue[WsMessage] = asyncio.Queue(maxsize=max_events)
        self.connected = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._subs: dict[int, _Subscription] = {}
        self._pending: dict[int, int] = {}  # command id -> subscription handle
        self._pending_channels: dict[int, list[str]] = {}  # command id -> the channels it subscribed
        self._next_id = 0
        self._next_handle = 0
        self._resync_sent: dict[str, float] = {}
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closing = False
        self.connections = 0
        self.malformed = 0
        self.acks = 0
        self.dropped_events = 0
        self.dropped_account_events = 0
        self.unknown_markets: set[str] = set()
        self.errors: list[WsError] = []
        self.last_message_at: float | None = None
        self.last_error: str | None = None
        self.frame_started_at = 0.0
        """``time.perf_counter()`` when the reader took the message being handled (for latency figures)."""
        self.turn_started_at = 0.0
        """``time.perf_counter()`` when the reader last got the loop back: a watcher far into a turn is in a
        burst and may defer its own work to when the reader yields."""
        self._book_watchers: list[BookWatcher] = []
        self._ticker_watchers: list[TickerWatcher] = []

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> KalshiWebSocket:
        """Signed with KALSHI_KEY_ID / KALSHI_PRIVATE_KEY_PATH (required: every channel needs an
        authenticated session), at the WebSocket host that goes with KALSHI_BASE_URL."""
        if not settings.kalshi_key_id or not settings.kalshi_private_key_path:
            raise KeyFileError("the Kalshi WebSocket needs KALSHI_KEY_ID and KALSHI_PRIVATE_KEY_PATH")
        signer = KalshiSigner.from_file(settings.kalshi_key_id, settings.kalshi_private_key_path)
        return cls(ws_url_for(settings.kalshi_base_url), signer, **kwargs)

    # -- lifecycle -------------------------------------------------------------------------------------

    async def __aenter__(self) -> KalshiWebSocket:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="kalshi-ws")
            self._watchdog = asyncio.create_task(self._watch(), name="kalshi-ws-resync")

    async def close(self) -> None:
        self._closing = True
        for task in (self._task, self._watchdog):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._watchdog = None
        if self._ws is not None:
            await self._ws.close()

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                headers = self._signer.headers("GET", self.url, self._wall_ms()) if self._signer else {}
                async with connect(
                    self.url, additional_headers=headers, open_timeout=self._open_timeout_s, proxy=None,
                    max_queue=None, compression=None,
                ) as ws:  # fmt: skip
                    attempt = 0
                    await self._on_connect(ws)
                    self.turn_started_at = time.perf_counter()
                    async for frame in ws:
                        await self._handle(frame)
                        if time.perf_counter() - self.turn_started_at > MAX_TURN_S:
                            await asyncio.sleep(0)  # buffered frames are read without yielding: yield here
                            self.turn_started_at = time.perf_counter()
                log.warning("kalshi ws: server closed the connection")
            except _Reconnect as exc:
                self.last_error = str(exc)
                log.warning("kalshi ws: %s; reconnecting to resubscribe", exc)
            except (OSError, WebSocketException, TimeoutError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                log.warning("kalshi ws: connection lost or refused: %s", self.last_error)
            except Exception as exc:  # a bug must cost one connection, never the feed
                self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                log.exception("kalshi ws: unexpected error; reconnecting")
            finally:
                self._on_disconnect()
            attempt += 1
            await asyncio.sleep(self._backoff.delay(attempt))

    async def _on_connect(self, ws: ClientConnection) -> None:
        self._ws = ws
        bound_reads(ws.transport)
        self.connections += 1
        self._reset_books()
        self._pending.clear()
        self._pending_channels.clear()
        self._resync_sent.clear()
        for sub in self._subs.values():
            sub.sids.clear()
            await self._send_subscribe(sub)
        self.connected.set()
        log.info("kalshi ws: connected (connection %d), %d subscriptions sent", self.connections, len(self._subs))

    def _on_disconnect(self) -> None:
        self._ws = None
        self.connected.clear()
        self._reset_books()

    def _reset_books(self) -> None:
        self.books.reset_connection()
        self._tell((), self.books.tickers())

    # -- watchers --------------------------------------------------------------------------------------

    def watch_books(self, watcher: BookWatcher) -> None:
        """Call ``watcher(changed, untrusted)`` after every message that changed a book or made one untrusted."""
        self._book_watchers.append(watcher)

    def watch_tickers(self, watcher: TickerWatcher) -> None:
        """Call ``watcher(update)`` for every ``ticker`` message, in stream order with the book messages."""
        self._ticker_watchers.append(watcher)

    def _tell(self, changed: Sequence[str], untrusted: Sequence[str]) -> None:
        if not (changed or untrusted):
            return
        for watcher in self._book_watchers:
            try:
                watcher(changed, untrusted)
            except Exception:  # a consumer's bug must not cost the connection or the other watchers
                log.exception("kalshi ws: a book watcher failed")

    def _tell_update(self, update: BookUpdate) -> None:
        self._tell(update.changed, [t for tickers in (update.resync or {}).values() for t in tickers])

    def resync(self, tickers: Sequence[str]) -> None:
        """Distrust these books now (watchers are told) and have the watchdog ask for fresh snapshots: for a
        consumer that found a book disagreeing with the exchange's own ``ticker`` prices."""
        known = [t for t in tickers if t in self.books.tickers() and not self.books.is_stale(t)]
        for t in known:
            self.books.book(t).stale = True
            self._resync_sent.pop(t, None)
        self._tell((), known)

    # -- commands --------------------------------------------------------------------------------------

    def _command_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def _send(self, doc: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None:
            return  # replayed from the desired state on the next connect
        with contextlib.suppress(WebSocketException, OSError):
            await ws.send(json.dumps(doc))

    async def _send_subscribe(self, sub: _Subscription) -> None:
        """``orderbook_delta`` alone (its ``use_yes_price`` flag is for the orderbook channel only), the other
        market-filtered channels together, and the channels that take no market filter without markets."""
        book = [c for c in sub.channels if c == ORDERBOOK]
        filtered = [c for c in sub.channels if c != ORDERBOOK and c not in UNFILTERED]
        unfiltered = [c for c in sub.channels if c in UNFILTERED]
        for channels in (book, filtered, unfiltered):
            if channels:
                await self._send_subscribe_command(sub, channels)

    async def _send_subscribe_command(self, sub: _Subscription, channels: list[str]) -> None:
        cid = self._command_id()
        self._pending[cid] = sub.handle
        self._pending_channels[cid] = channels
        params: dict[str, Any] = {"channels": channels}
        if sub.markets and not UNFILTERED.intersection(channels):
            params["market_tickers"] = list(sub.markets)
        if ORDERBOOK in channels:
            params["use_yes_price"] = True  # the only pricing once the venue drops the flag
        await self._send({"id": cid, "cmd": "subscribe", "params": params})

    async def subscribe(self, channels: Sequence[str], market_tickers: Sequence[str] = ()) -> int:
        """Subscribe now (or on the next connect); returns a handle that stays valid across reconnects."""
        unknown = set(channels) - CHANNELS
        if unknown or not channels:
            raise ValueError(f"unknown or no channels: {sorted(unknown) or channels}")
        if ORDERBOOK in channels and not market_tickers:
            raise ValueError("orderbook_delta needs market tickers")
        self._next_handle += 1
        sub = _Subscription(self._next_handle, tuple(channels), list(dict.fromkeys(market_tickers)))
        self._subs[sub.handle] = sub
        await self._send_subscribe(sub)
        return sub.handle

    async def unsubscribe(self, handle: int) -> None:
        sub = self._subs.pop(handle, None)
        if sub is not None and ORDERBOOK in sub.channels:
            self.books.forget(t for t in sub.markets if not self._still_watched(t))
        if sub is not None and sub.sids:
            await self._send(
                {"id": self._command_id(), "cmd": "unsubscribe", "params": {"sids": list(sub.sids.values())}}
            )

    async def _update(self, handle: int, action: str, tickers: Sequence[str]) -> None:
        sub = self._subs[handle]
        for channel, sid in sub.sids.items():
            if channel in UNFILTERED:
                continue
            params = {"sid": sid, "market_tickers": list(tickers), "action": action}
            await self._send({"id": self._command_id(), "cmd": "update_subscription", "params": params})

    async def add_markets(self, handle: int, tickers: Sequence[str]) -> None:
        sub = self._subs[handle]
        new = [t for t in tickers if t not in sub.markets]
        sub.markets.extend(new)
        if new:
            await self._update(handle, "add_markets", new)

    async def remove_markets(self, handle: int, tickers: Sequence[str]) -> None:
        sub = self._subs[handle]
        sub.markets[:] = [t for t in sub.markets if t not in tickers]
        await self._update(handle, "delete_markets", tickers)
        if ORDERBOOK in sub.channels:
            self.books.forget(t for t in tickers if not self._still_watched(t))

    async def _drop_unknown_market(self, command_id: int, ticker: str) -> None:
        """A subscribe refused for one unknown market (code 16) is sent again without it, so one delisted
        ticker does not leave every other market of the subscription without a book."""
        handle = self._pending.get(command_id)
        sub = self._subs.get(handle) if handle is not None else None
        channels = self._pending_channels.get(command_id, [])
        if sub is None or not channels:
            return
        if ticker in sub.markets:
            sub.markets.remove(ticker)
            self.unknown_markets.add(ticker)
            log.warning("kalshi ws: market %s not found; subscribing without it", ticker)
            if ORDERBOOK in sub.channels:
                self.books.forget(t for t in (ticker,) if not self._still_watched(t))
        if sub.markets:
            await self._send_subscribe_command(sub, channels)  # only the refused command, without the market

    def is_subscribed(self, handle: int) -> bool:
        """True once the current connection confirmed every channel of this subscription."""
        sub = self._subs.get(handle)
        return sub is not None and self._ws is not None and set(sub.channels) <= set(sub.sids)

    def _still_watched(self, ticker: str) -> bool:
        return any(ORDERBOOK in s.channels and ticker in s.markets for s in self._subs.values())

    async def _request_snapshots(self, resync: dict[int, tuple[str, ...]]) -> None:
        now = self._clock()
        for sid, tickers in resync.items():
            if tickers:
                for t in tickers:
                    self._resync_sent[t] = now
                params = {"sid": sid, "market_tickers": list(tickers), "action": "get_snapshot"}
                await self._send({"id": self._command_id(), "cmd": "update_subscription", "params": params})

    async def _watch(self) -> None:
        """Ask again for snapshots that did not come (a lost answer must not leave a book stale forever)."""
        while True:
            await asyncio.sleep(self._resync_timeout_s / 2)
            if self._ws is None:
                continue
            now = self._clock()
            late: dict[int, list[str]] = {}
            for sub in self._subs.values():
                sid = sub.sids.get(ORDERBOOK)
                if sid is None:
                    continue
                for t in sub.markets:
                    sent = self._resync_sent.get(t)
                    if self.books.is_stale(t) and (sent is None or now - sent > self._resync_timeout_s):
                        late.setdefault(sid, []).append(t)
            if late:
                log.info("kalshi ws: re-requesting %d stale snapshots", sum(map(len, late.values())))
                await self._request_snapshots({sid: tuple(ts) for sid, ts in late.items()})

    # -- inbound ---------------------------------------------------------------------------------------

    async def _handle(self, frame: str | bytes) -> None:
        self.frame_started_at = time.perf_counter()
        try:
            msg = parse_message(frame, yes_leg_book=True)
        except ProtocolError as exc:
            self.malformed += 1
            log.warning("kalshi ws: dropped a malformed message: %s", exc)
            return
        try:
            await self._dispatch(msg)
        except (WebSocketException, OSError, _Reconnect):
            raise
        except Exception:  # one message that trips a bug is dropped, and the book it touched resyncs
            self.malformed += 1
            log.exception("kalshi ws: failed to apply a %s message", type(msg).__name__)
            if isinstance(msg, OrderbookDelta | OrderbookSnapshot):
                self.books.book(msg.ticker).stale = True  # the watchdog asks for a fresh snapshot
                self._tell((), (msg.ticker,))
            return
        async with self._changed:
            self._changed.notify_all()

    async def _dispatch(self, msg: WsMessage) -> None:
        now = self._clock()
        self.last_message_at = now
        update: BookUpdate | None = None
        if isinstance(msg, OrderbookDelta):
            update = self.books.on_delta(msg, now)
        elif isinstance(msg, OrderbookSnapshot):
            update = self.books.on_snapshot(msg, now)
            self._resync_sent.pop(msg.ticker, None)
        elif isinstance(msg, Subscribed):
            handle = self._pending.get(msg.command_id) if msg.command_id is not None else None
            if handle is not None and handle in self._subs:
                self._subs[handle].sids[msg.channel] = msg.sid
        elif isinstance(msg, TickerUpdate):
            self.books.touch(msg.ticker, now)
            for watcher in self._ticker_watchers:
                try:
                    watcher(msg)
                except Exception:
                    log.exception("kalshi ws: a ticker watcher failed")
            self._emit(msg)
        elif isinstance(msg, WsError):
            log.warning("kalshi ws: error %s for command %s: %s", msg.code, msg.command_id, msg.message)
            self.errors.append(msg)
            self._emit(msg)
            if msg.code == BUFFER_OVERFLOW:  # deltas, fills or orders were lost: start over
                raise _Reconnect(f"error {msg.code}: {msg.message or 'subscription buffer overflow'}")
            if msg.code == MARKET_NOT_FOUND and msg.market_ticker and msg.command_id is not None:
                await self._drop_unknown_market(msg.command_id, msg.market_ticker)
        elif isinstance(msg, CommandAck):
            self.acks += 1
            if msg.sid is not None and msg.seq is not None:
                update = self.books.on_sequenced(msg.sid, msg.seq)
        else:
            self._emit(msg)
        if update is not None:
            self._tell_update(update)
            if update.resync:
                await self._request_snapshots(update.resync)

    def _emit(self, msg: WsMessage) -> None:
        """Queue for the consumer; a full queue loses its oldest message. Losing one of our fills, orders,
        positions or an error is counted apart and logged: the consumer must reconcile over REST."""
        if self.events.full():
            lost = self.events.get_nowait()
            self.dropped_events += 1
            if isinstance(lost, ACCOUNT_EVENTS):
                self.dropped_account_events += 1
                log.warning("kalshi ws: event queue full; dropped a %s (reconcile over REST)", type(lost).__name__)
        self.events.put_nowait(msg)

    # -- queries ---------------------------------------------------------------------------------------

    def orderbook(self, ticker: str) -> Orderbook | None:
        """The local book, or None while it is missing or stale."""
        return self.books.orderbook(ticker)

    def staleness(self, ticker: str) -> float:
        """Seconds since the last message about this market (infinite before the first)."""
        return self.books.staleness(ticker, self._clock())

    def is_stale(self, ticker: str, max_age_s: float) -> bool:
        """True while the book awaits a snapshot or nothing was heard about it for ``max_age_s``."""
        return self.books.is_stale(ticker) or self.staleness(ticker) > max_age_s

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float) -> None:
        """Wait (bounded) until ``predicate()`` holds, re-checking after every processed message."""
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_books(self, tickers: Sequence[str], timeout_s: float = 5.0) -> None:
        await self.wait_until(lambda: all(not self.books.is_stale(t) for t in tickers), timeout_s)
