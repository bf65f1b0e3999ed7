"""Which storage sinks an engine gets from its settings, and the warm-up from Redis after a restart.

``REDIS_URL`` adds the live-state cache; ``QUESTDB_CONF`` sends the time series to QuestDB, and without it
they go to the local history file in the data directory (so the dashboard's history works with no
services). Building a sink never waits for its server: a server that is down at start is reported by the
sink's health and retried by its writer, exactly like one that goes down later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.cache.redis_cache import RedisCache, WarmState
from engine.config.settings import Settings
from engine.markets.kalshi import Orderbook
from engine.runtime.engine import Engine
from engine.runtime.sinks import EngineSink, Sinks
from engine.timeseries.local import HISTORY_FILE, SqliteBackend
from engine.timeseries.questdb_ilp import QuestDbBackend
from engine.timeseries.sink import TimeSeriesSink
from engine.timeseries.writer import Backend, QueuedWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Storage:
    sinks: Sinks
    cache: RedisCache | None
    timeseries: TimeSeriesSink | None
    history_path: Path | None
    """The local history file, when QuestDB is not configured."""

    def describe(self) -> str:
        parts = []
        if self.cache is not None:
            parts.append("Redis cache")
        if self.timeseries is not None:
            parts.append("QuestDB time series" if self.history_path is None else f"history {self.history_path}")
        return ", ".join(parts) or "memory only"


def build_storage(settings: Settings, data_dir: Path, *, local_history: bool = True) -> Storage:
    """The sinks ``settings`` ask for (none of them started). A malformed ``QUESTDB_CONF`` or ``REDIS_URL``
    raises an ``ArbError`` naming the variable, before anything runs."""
    sinks: list[EngineSink] = []
    cache = None
    if settings.redis_url:
        identity = {"pid": os.getpid(), "host": socket.gethostname(), "data_dir": str(data_dir)}
        cache = RedisCache(settings.redis_url, identity=identity, book_ttl_s=max(1, int(settings.max_book_age_s)))
        sinks.append(cache)
    backend: Backend | None = None
    history_path = None
    if settings.questdb_conf:
        backend = QuestDbBackend(settings.questdb_conf)
        name = "questdb"
    elif local_history:
        history_path = data_dir / HISTORY_FILE
        backend = SqliteBackend(history_path)
        name = "history"
    timeseries = None
    if backend is not None:
        timeseries = TimeSeriesSink(QueuedWriter(name, backend))
        sinks.append(timeseries)
    return Storage(Sinks(sinks), cache, timeseries, history_path)


async def attach_storage(engine: Engine, storage: Storage) -> None:
    """Start every sink and point the engine at them."""
    await storage.sinks.start()
    engine.sink = storage.sinks


async def warm_up(
    engine: Engine,
    cache: RedisCache,
    last_polled: MutableMapping[str, datetime],
    *,
    max_book_age_s: float,
    max_odds_age_s: float,
) -> tuple[WarmState, asyncio.Task[None] | None]:
    """Apply the fresh quotes the previous run left in Redis now (they carry their own quote times, and the
    poller counts them as polled at the time they were fetched, so no credit is spent twice), and start a
    task that applies the fresh books once discovery has put their markets on the board (a book for a
    market not on the board is ignored), each with the instant it was cached so its age stays honest."""
    state = await cache.warm(engine.clock.now(), max_book_age_s=max_book_age_s, max_odds_age_s=max_odds_age_s)
    for sport, (ts, raw) in state.odds.items():
        engine.apply_odds(sport, raw)
        cache.restore_odds(sport, raw, ts)
        last_polled[sport] = ts
    task = None
    if state.books:
        task = asyncio.create_task(_warm_books(engine, cache, dict(state.books), max_book_age_s), name="warm-books")
    if state.odds or state.books:
        message = f"warmed up from Redis: {len(state.odds)} sports' quotes, {len(state.books)} books"
        engine.emit("cache", f"{message} ({state.skipped} too old or unreadable)", odds=len(state.odds),
                    books=len(state.books))  # fmt: skip
    return state, task


async def _warm_books(
    engine: Engine, cache: RedisCache, books: dict[str, tuple[datetime, Orderbook]], max_age_s: float
) -> None:
    for _ in range(int(max_age_s * 10)):
        if engine.pipeline.universe.markets:
            break
        await asyncio.sleep(0.1)
    now = engine.clock.now()
    applied = 0
    for ticker, (ts, book) in books.items():
        seen = engine.book_seen_at.get(ticker)
        if (seen is not None and seen >= ts) or (now - ts).total_seconds() > max_age_s:
            continue  # the WebSocket already delivered a newer book, or this one aged out meanwhile
        engine.apply_book(ticker, book)
        engine.book_seen_at[ticker] = ts
        cache.restore_book(ticker, book, ts)  # written back with its own time, never refreshed as new
        applied += 1
    if applied:
        log.info("applied %d cached books from Redis", applied)
