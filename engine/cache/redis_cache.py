"""Redis as the engine's live-state cache (redis-py asyncio): the latest Kalshi books and sportsbook quotes
with TTLs, so a restarted engine warms up from them while they are fresh, and the engine's status in a key
and on a channel, so ``arbtui status --redis`` on another machine can follow it.

Redis is never in the engine's way. The engine's calls only record the latest value per key in memory
(a book that changes ten times before the next write is written once); a task of its own writes what
changed every ``flush_interval_s`` in one pipeline, each round trip bounded by ``op_timeout_s``. When Redis
is down that task fails fast, says so in ``health()`` (the snapshot shows the cache DOWN, then DEGRADED
while recovering), keeps the newest values, and tries again with a growing pause: the engine keeps trading
from memory, and the cache catches up with the newest state as soon as the server is back. The status key
is written before it is published, so a reader that gets the message and then reads the key finds it.

Keys (``prefix`` defaults to ``arbtui``): ``{prefix}:book:{ticker}``, ``{prefix}:odds:{sport}``,
``{prefix}:status``; channel ``{prefix}:status``. One engine per Redis database (pick it with
``redis://host:6379/N``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from engine.detection.signals import Signal
from engine.errors import ArbError
from engine.execution.model import FillRecord
from engine.markets.kalshi import Orderbook
from engine.markets.odds import OddsEvent
from engine.runtime.recording import book_doc, book_from
from engine.runtime.snapshot import EngineSnapshot, FeedHealth, FeedState

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "arbtui"
CACHE_ERRORS = (RedisError, OSError, TimeoutError)


class CacheError(ArbError):
    """Redis cannot be reached or holds something this version cannot read (names the URL or key)."""


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _parse_ts(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        ts = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else None


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user + ':***' if ':' in creds else user}@{host}"
    return url


def connect(url: str, *, timeout_s: float = 1.0) -> aioredis.Redis:
    """A client that fails fast (no hidden retries: the caller decides when to try again)."""
    try:
        return aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )
    except ValueError as exc:
        raise CacheError(f"REDIS_URL {redact(url)} is not a Redis URL: {exc}") from None


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    def book(self, ticker: str) -> str:
        return f"{self.prefix}:book:{ticker}"

    def odds(self, sport: str) -> str:
        return f"{self.prefix}:odds:{sport}"

    @property
    def status(self) -> str:
        return f"{self.prefix}:status"

    @property
    def channel(self) -> str:
        return f"{self.prefix}:status"


@dataclass(frozen=True, slots=True)
class WarmState:
    """What a restarting engine found in the cache and may use: values younger than the limits given."""

    books: Mapping[str, tuple[datetime, Orderbook]]
    odds: Mapping[str, tuple[datetime, list[Any]]]
    skipped: int = 0
    """Entries present but too old or unreadable."""


FreshBooks = dict[str, tuple[datetime, Orderbook]]
FreshOdds = dict[str, tuple[datetime, list[Any]]]


def fresh_books(docs: Mapping[str, str | None], now: datetime, max_age_s: float) -> tuple[FreshBooks, int]:
    """Pure: the cached book documents (key -> JSON) no older than ``max_age_s`` at ``now``, parsed."""
    out: dict[str, tuple[datetime, Orderbook]] = {}
    skipped = 0
    for doc_text in docs.values():
        try:
            doc = json.loads(doc_text) if doc_text else None
            ts = _parse_ts(doc.get("ts")) if isinstance(doc, dict) else None
            if doc is None or ts is None or (now - ts).total_seconds() > max_age_s or ts > now:
                skipped += 1
                continue
            ticker = str(doc["ticker"])
            book = book_from(ticker, doc)
        except (ValueError, KeyError, TypeError, ArithmeticError):
            skipped += 1
            continue
        if book is not None:
            out[ticker] = (ts, book)
    return out, skipped


def fresh_odds(docs: Mapping[str, str | None], now: datetime, max_age_s: float) -> tuple[FreshOdds, int]:
    """Pure: the cached Odds API responses no older than ``max_age_s`` at ``now``."""
    out: dict[str, tuple[datetime, list[Any]]] = {}
    skipped = 0
    for doc_text in docs.values():
        try:
            doc = json.loads(doc_text) if doc_text else None
        except ValueError:
            doc = None
        ts = _parse_ts(doc.get("ts")) if isinstance(doc, dict) else None
        if not isinstance(doc, dict) or ts is None or (now - ts).total_seconds() > max_age_s or ts > now:
            skipped += 1
            continue
        events = doc.get("events")
        sport = doc.get("sport")
        if not isinstance(events, list) or not isinstance(sport, str):
            skipped += 1
            continue
        out[sport] = (ts, events)
    return out, skipped


class RedisCache:
    """:class:`~engine.runtime.sinks.EngineSink` over Redis, plus :meth:`warm` for a restart."""

    def __init__(
        self,
        url: str,
        *,
        identity: Mapping[str, Any] | None = None,
        prefix: str = DEFAULT_PREFIX,
        book_ttl_s: int = 30,
        odds_ttl_s: int = 600,
        status_ttl_s: int = 10,
        flush_interval_s: float = 0.1,
        op_timeout_s: float = 1.0,
        max_backoff_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.keys = Keys(prefix)
        self.identity = dict(identity or {})
        """Who publishes (pid, host, data directory), shown by ``status --redis``."""
        self.book_ttl_s = book_ttl_s
        self.odds_ttl_s = odds_ttl_s
        self.status_ttl_s = status_ttl_s
        self.flush_interval_s = flush_interval_s
        self.op_timeout_s = op_timeout_s
        self.max_backoff_s = max_backoff_s
        self.monotonic = monotonic
        self.client = connect(url, timeout_s=op_timeout_s)
        self._books: dict[str, tuple[datetime, Orderbook | None]] = {}
        self._odds: dict[str, tuple[datetime, list[Any]]] = {}
        self._status: EngineSnapshot | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.connected = False
        self.writes = 0
        self.failures = 0
        self.reconnects = 0
        self.last_error = ""
        self.last_ok_at: float | None = None
        self.last_error_at: float | None = None

    # -- the engine's side (never blocks) ----------------------------------------------------------------

    def book(self, ticker: str, book: Orderbook | None, now: datetime) -> None:
        self._books[ticker] = (now, book)

    def restore_book(self, ticker: str, book: Orderbook, ts: datetime) -> None:
        """A warmed-up book goes back with the instant it was cached, so its TTL and age are not renewed."""
        self._books[ticker] = (ts, book)

    def restore_odds(self, sport: str, raw: Sequence[Any], ts: datetime) -> None:
        self._odds[sport] = (ts, list(raw))

    def odds(self, sport: str, raw: Sequence[Any], events: Sequence[OddsEvent], now: datetime) -> None:
        self._odds[sport] = (now, list(raw))

    def signals(self, changed: Sequence[Signal], gone: Sequence[Signal], now: datetime) -> None:
        return None

    def fill(self, fill: FillRecord) -> None:
        return None

    def status(self, snapshot: EngineSnapshot) -> None:
        self._status = snapshot
        self._wake.set()

    def health(self) -> tuple[FeedHealth, ...]:
        now = self.monotonic()
        age = None if self.last_ok_at is None else max(0.0, now - self.last_ok_at)
        extra = {"pending": len(self._books) + len(self._odds), "reconnects": self.reconnects}
        if not self.connected:
            state = FeedState.STARTING if self.last_error_at is None else FeedState.DOWN
            detail = f"cache degraded: trading from memory ({self.last_error})" if self.last_error_at else ""
        elif self.last_error_at is not None and now - self.last_error_at <= 30.0:
            state, detail = FeedState.DEGRADED, f"recovered from: {self.last_error}"
        else:
            state, detail = FeedState.CONNECTED, ""
        return (FeedHealth("redis", state, age, detail, extra),)

    def drops(self) -> dict[str, int]:
        return {}  # latest-value keys: a value replaced before it was written is superseded, not lost

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="redis-cache")

    async def close(self) -> None:
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(self.op_timeout_s * 2):
                    await task
        if self.connected:
            with contextlib.suppress(*CACHE_ERRORS):
                async with asyncio.timeout(self.op_timeout_s):
                    await self._write_pending()
        with contextlib.suppress(*CACHE_ERRORS):
            await self.client.aclose()

    # -- the writer task ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.25
        while not self._closing:
            try:
                await self._write_pending()
            except CACHE_ERRORS as exc:
                self._failed(exc)
                await asyncio.sleep(backoff)
                backoff = min(self.max_backoff_s, backoff * 2)
                continue
            backoff = 0.25
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.flush_interval_s):  # not wait_for: 3.11's can lose a cancel
                    await self._wake.wait()
            self._wake.clear()

    def _failed(self, exc: BaseException) -> None:
        if self.connected or self.last_error_at is None:
            log.warning("redis %s unavailable, trading from memory: %s", redact(self.url), exc or type(exc).__name__)
        self.connected = False
        self.failures += 1
        self.last_error = str(exc) or type(exc).__name__
        self.last_error_at = self.monotonic()

    async def _write_pending(self) -> None:
        books, self._books = self._books, {}
        odds, self._odds = self._odds, {}
        status, self._status = self._status, None
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for ticker, (ts, book) in books.items():
                    if book is not None:  # an untrusted book is not written; the last good one ages out by its ts
                        doc = {"ts": _iso(ts), "ticker": ticker, **book_doc(book)}
                        pipe.set(self.keys.book(ticker), json.dumps(doc), ex=self.book_ttl_s)
                for sport, (ts, raw) in odds.items():
                    doc_odds = {"ts": _iso(ts), "sport": sport, "events": raw}
                    pipe.set(self.keys.odds(sport), json.dumps(doc_odds, default=str), ex=self.odds_ttl_s)
                if status is not None:
                    text = json.dumps(self.status_document(status), default=str)
                    pipe.set(self.keys.status, text, ex=self.status_ttl_s)
                    pipe.publish(self.keys.channel, text)  # after the key: cache, then publish
                if not (books or odds or status is not None or not self.connected):
                    return
                if not (books or odds or status is not None):
                    pipe.ping()
                async with asyncio.timeout(self.op_timeout_s):
                    await pipe.execute()
        except BaseException:
            for k, v in books.items():  # newer values that arrived meanwhile win
                self._books.setdefault(k, v)
            for k2, v2 in odds.items():
                self._odds.setdefault(k2, v2)
            if self._status is None:
                self._status = status
            raise
        if not self.connected:
            if self.last_error_at is not None:
                self.reconnects += 1
                log.warning("redis %s is back; cache writes resumed", redact(self.url))
            self.connected = True
        self.writes += 1
        self.last_ok_at = self.monotonic()

    def status_document(self, snapshot: EngineSnapshot) -> dict[str, Any]:
        return {"ts": _iso(snapshot.ts), "engine": self.identity, "status": snapshot.to_json()}

    # -- warm-up -----------------------------------------------------------------------------------------

    async def warm(self, now: datetime, *, max_book_age_s: float, max_odds_age_s: float) -> WarmState:
        """Fresh books and quotes left by the previous run; empty (and logged) when Redis is down."""
        try:
            book_docs = await self._read_all(self.keys.book("*"))
            odds_docs = await self._read_all(self.keys.odds("*"))
        except CACHE_ERRORS as exc:
            self._failed(exc)
            return WarmState({}, {})
        books, skipped_books = fresh_books(book_docs, now, max_book_age_s)
        odds, skipped_odds = fresh_odds(odds_docs, now, max_odds_age_s)
        return WarmState(books, odds, skipped_books + skipped_odds)

    async def _read_all(self, pattern: str) -> dict[str, str | None]:
        keys: list[str] = []
        async for key in self.client.scan_iter(match=pattern, count=1000):
            keys.append(key)
        out: dict[str, str | None] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            async with asyncio.timeout(self.op_timeout_s * 5):
                values = await self.client.mget(chunk)
            out.update((k, _text(v)) for k, v in zip(chunk, values, strict=True))
        return out


# -- reading the status from another process ----------------------------------------------------------


async def read_status(url: str, prefix: str = DEFAULT_PREFIX, *, timeout_s: float = 2.0) -> dict[str, Any]:
    """The status document the engine last wrote; :class:`CacheError` when Redis is down or holds none."""
    client = connect(url, timeout_s=timeout_s)
    try:
        text = await client.get(Keys(prefix).status)
    except CACHE_ERRORS as exc:
        raise CacheError(f"cannot read the engine's status from Redis {redact(url)}: {exc}") from None
    finally:
        with contextlib.suppress(*CACHE_ERRORS):
            await client.aclose()
    if text is None:
        raise CacheError(
            f"no arbtui engine status in Redis {redact(url)} (none running with REDIS_URL, or it stopped "
            "publishing more than its TTL ago)"
        )
    return _document(text)


def _text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _document(value: str | bytes) -> dict[str, Any]:
    text = _text(value) or ""
    try:
        doc = json.loads(text)
    except ValueError:
        raise CacheError("the status in Redis is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("status"), dict):
        raise CacheError("the status in Redis is not an arbtui status document")
    return doc


async def follow_status(
    url: str, prefix: str = DEFAULT_PREFIX, *, timeout_s: float = 2.0
) -> AsyncIterator[dict[str, Any]]:
    """Every status the engine publishes, as it publishes it (the current one first, when there is one)."""
    client = connect(url, timeout_s=timeout_s)
    keys = Keys(prefix)
    pubsub = client.pubsub()
    try:
        try:
            await pubsub.subscribe(keys.channel)
            current = await client.get(keys.status)
        except CACHE_ERRORS as exc:
            raise CacheError(f"cannot follow the engine's status in Redis {redact(url)}: {exc}") from None
        if current is not None:
            yield _document(current)
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except CACHE_ERRORS as exc:
                raise CacheError(f"lost Redis {redact(url)} while following the status: {exc}") from None
            if message is not None and message.get("type") == "message":
                yield _document(str(message["data"]))
    finally:
        with contextlib.suppress(*CACHE_ERRORS):
            await pubsub.aclose()  # type: ignore[no-untyped-call]
        with contextlib.suppress(*CACHE_ERRORS):
            await client.aclose()
