"""The live inputs of the engine: Kalshi discovery over REST, books and tickers over the WebSocket, and the
Odds API poller within the day's credit budget. Each feeds :class:`~engine.runtime.engine.Engine` through
its ``apply_*`` methods and reports its health; none of them can stop another or the loop.

Book changes are applied synchronously inside the WebSocket reader (a delta reaches the pipeline with no
queue hop, which is the latency that matters); everything downstream of detection is decoupled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.connectors.errors import ApiError, ProtocolError, QuotaExceededError, TransportError
from engine.connectors.kalshi.local_book import BookUpdate, LocalBooks
from engine.connectors.kalshi.messages import (
    MarketLifecycle,
    OrderbookDelta,
    OrderbookSnapshot,
    TickerUpdate,
)
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.ws import KalshiWebSocket
from engine.connectors.odds_api.client import OddsApiClient
from engine.connectors.odds_api.quota import odds_cost
from engine.mapping.teams import LEAGUES, league_of_series
from engine.runtime.cadence import CadencePolicy, PollTarget, due
from engine.runtime.engine import Engine

log = logging.getLogger(__name__)

FALLBACK_SERIES: tuple[str, ...] = ("KXNFLGAME", "KXNBAGAME", "KXMLBGAME", "KXNHLGAME")
ODDS_MARKET_OF_KIND = {"winner": "h2h", "spread": "spreads", "total": "totals"}
BOOK_CHANNELS = ("orderbook_delta", "ticker")
ACCOUNT_CHANNELS = ("market_lifecycle_v2",)


class WatchedBooks(LocalBooks):
    """The WebSocket client's local books, telling the engine which books changed and which went stale
    (a ``seq`` gap or a dropped connection) the moment it happens."""

    def __init__(self, changed: Callable[[Sequence[str], Sequence[str]], None]) -> None:
        super().__init__()
        self._changed = changed

    def _tell(self, update: BookUpdate) -> BookUpdate:
        stale = [t for tickers in (update.resync or {}).values() for t in tickers]
        if update.changed or stale:
            self._changed(update.changed, stale)
        return update

    def on_snapshot(self, snap: OrderbookSnapshot, now: float) -> BookUpdate:
        return self._tell(super().on_snapshot(snap, now))

    def on_delta(self, delta: OrderbookDelta, now: float) -> BookUpdate:
        return self._tell(super().on_delta(delta, now))

    def on_sequenced(self, sid: int, seq: int) -> BookUpdate:
        return self._tell(super().on_sequenced(sid, seq))

    def reset_connection(self) -> None:
        super().reset_connection()
        tickers = self.tickers()
        if tickers:
            self._changed((), tickers)


@dataclass(slots=True)
class FeedSettings:
    leagues: tuple[str, ...] | None = None
    bookmakers: tuple[str, ...] = ()
    discovery_interval_s: float = 300.0
    tick_interval_s: float = 1.0
    snapshot_interval_s: float = 0.5
    ws_stale_after_s: float = 30.0
    balance_interval_s: float = 30.0
    cadence: CadencePolicy = field(default_factory=CadencePolicy)


class LiveFeeds:
    """Starts and stops every live task of one engine."""

    def __init__(
        self,
        engine: Engine,
        rest: KalshiRestClient,
        ws: KalshiWebSocket,
        odds: OddsApiClient | None,
        settings: FeedSettings,
    ) -> None:
        self.engine = engine
        self.rest = rest
        self.ws = ws
        self.odds = odds
        self.settings = settings
        self._tasks: list[asyncio.Task[None]] = []
        self._wake_discovery = asyncio.Event()
        self._wake_odds = asyncio.Event()
        self._book_handle: int | None = None
        self._subscribed: set[str] = set()
        self.last_polled: dict[str, datetime] = {}
        self.kinds_by_sport: dict[str, set[str]] = {}
        self._ws_monitor = engine.monitor("kalshi_ws", settings.ws_stale_after_s)
        self._rest_monitor = engine.monitor("kalshi_rest", settings.discovery_interval_s * 2)
        self._odds_monitor = engine.monitor("odds_api", 3600.0)
        self._gaps_seen = 0
        ws.books = WatchedBooks(self._on_books)
        engine.subscribed = lambda: len(self._subscribed)
        if odds is not None:
            engine.extra_health["odds_api"] = self._odds_extra
        else:
            self._odds_monitor.idle_reason = "no ODDS_API_KEY: Kalshi-only arbitrage"

    def _odds_extra(self) -> dict[str, Any]:
        assert self.odds is not None
        budget = self.odds.budget
        now = self.engine.clock.now()
        return {"credits_left": budget.left_today(now), "credits_spent_today": budget.spent_today,
                "credits_daily": budget.daily_credits}  # fmt: skip

    # -- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> None:
        self.ws.start()
        work: list[tuple[str, Coroutine[Any, Any, None]]] = [
            ("discovery", self._discovery_loop()),
            ("ws-events", self._ws_events()),
            ("odds", self._odds_loop()),
            ("tick", self._tick_loop()),
            ("snapshot", self._snapshot_loop()),
            ("orders", self.engine.run_orders()),
            ("lag", self.engine.lag.run()),
        ]
        if self.engine.desk.mode.value == "live":
            work.append(("balance", self._balance_loop()))
        if self.engine.account_feed is not None:
            work.append(("account", self.engine.account_feed.run()))
        for name, coro in work:
            self._tasks.append(asyncio.create_task(self._guarded(name, coro), name=f"engine-{name}"))

    async def _guarded(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:  # a task that dies is logged loudly; the others go on
            log.exception("engine task %s stopped on an unexpected error", name)
            self.engine.emit("error", f"engine task {name} stopped on an unexpected error")

    async def stop(self, order_timeout_s: float = 10.0) -> None:
        """No new orders; the one in flight finishes or is left for recovery; every task stops."""
        await self.engine.finish_in_flight(order_timeout_s)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.ws.close()

    # -- WebSocket ------------------------------------------------------------------------------------

    def _on_books(self, changed: Sequence[str], stale: Sequence[str]) -> None:
        now = self.engine.monotonic()
        self._ws_monitor.message(now)
        if self.ws.books.gaps > self._gaps_seen:
            self._gaps_seen = self.ws.books.gaps
            self._ws_monitor.error("seq gap: books resyncing", now)
        for ticker in stale:
            self.engine.apply_book(ticker, None)
        for ticker in changed:
            self.engine.apply_book(ticker, self.ws.orderbook(ticker))

    async def _ws_events(self) -> None:
        while True:
            msg = await self.ws.events.get()
            now = self.engine.monotonic()
            self._ws_monitor.connected = self.ws.connected.is_set()
            self._ws_monitor.message(now)
            if isinstance(msg, TickerUpdate):
                self.engine.note_ticker(msg.ticker, msg.yes_bid, msg.yes_ask)
            elif isinstance(msg, MarketLifecycle):
                self._wake_discovery.set()

    async def _subscribe(self, tickers: Sequence[str]) -> None:
        new = [t for t in tickers if t not in self._subscribed]
        gone = [t for t in self._subscribed if t not in set(tickers)]
        if self._book_handle is None and new:
            self._book_handle = await self.ws.subscribe(BOOK_CHANNELS, new)
            await self.ws.subscribe(ACCOUNT_CHANNELS)
        elif self._book_handle is not None:
            if new:
                await self.ws.add_markets(self._book_handle, new)
            if gone:
                await self.ws.remove_markets(self._book_handle, gone)
        self._subscribed.update(new)
        self._subscribed.difference_update(gone)

    # -- discovery --------------------------------------------------------------------------------------

    def _wanted(self, ticker: object) -> bool:
        found = league_of_series(ticker) if isinstance(ticker, str) else None
        leagues = self.settings.leagues
        return found is not None and (leagues is None or found[0].key in leagues)

    async def _series(self) -> list[Any]:
        try:
            listed = [s for s in await self.rest.series_raw(category="Sports") if isinstance(s, dict)]
        except ApiError as exc:
            log.warning("discovery: GET /series failed (%s); asking for the main winner series", exc)
            listed = []
        chosen = [s for s in listed if self._wanted(s.get("ticker"))]
        if chosen:
            return chosen
        out = []
        for ticker in FALLBACK_SERIES:
            if self._wanted(ticker):
                with contextlib.suppress(ApiError):
                    raw = await self.rest.series_one_raw(ticker)
                    if isinstance(raw, dict):
                        out.append(raw)
        return out

    async def discover(self) -> None:
        series = await self._series()
        markets: list[Any] = []
        kinds: dict[str, set[str]] = {}
        for s in series:
            found = league_of_series(s["ticker"])
            assert found is not None
            batch = await self.rest.markets_raw(series_ticker=s["ticker"], status="open")
            markets.extend(batch)
            if batch:
                kinds.setdefault(found[0].sport_key, set()).add(found[1])
        self.kinds_by_sport = kinds
        self.engine.apply_universe(series, markets)
        self._rest_monitor.connected = True
        self._rest_monitor.message(self.engine.monotonic())
        await self._subscribe([m.ticker for m in self.engine.pipeline.universe.markets])
        self._wake_odds.set()

    async def _discovery_loop(self) -> None:
        while True:
            try:
                await self.discover()
            except (ApiError, TransportError, ProtocolError) as exc:
                self._rest_monitor.error(str(exc), self.engine.monotonic())
                log.warning("discovery failed: %s", exc)
            self._wake_discovery.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_discovery.wait(), self.settings.discovery_interval_s)
            await asyncio.sleep(5.0)  # lifecycle bursts: one refresh, not one per message

    # -- Odds API ---------------------------------------------------------------------------------------

    def _targets(self, now: datetime) -> list[PollTarget]:
        """Sports with mapped markets, each with its cost and the next kickoff among its mapped games."""
        pipeline = self.engine.pipeline
        kickoffs: dict[str, datetime | None] = {}
        for match in pipeline.universe.mapping.matches.values():
            event = pipeline.events.get(match.odds_event_id)
            if event is None or event.commence_time <= now:
                continue
            known = kickoffs.get(event.sport_key)
            kickoffs[event.sport_key] = event.commence_time if known is None else min(known, event.commence_time)
        return [PollTarget(sport, self._cost(sport), kickoff) for sport, kickoff in kickoffs.items()]

    def _markets(self, sport: str) -> list[str]:
        return sorted(ODDS_MARKET_OF_KIND[k] for k in self.kinds_by_sport.get(sport, {"winner"}))

    def _cost(self, sport: str) -> int:
        return odds_cost(self._markets(sport), ("us",), self.settings.bookmakers)

    async def poll(self, sport: str) -> None:
        assert self.odds is not None
        now = self.engine.clock.now()
        self.last_polled[sport] = now
        try:
            raw = await self.odds.odds_raw(sport, markets=self._markets(sport), bookmakers=self.settings.bookmakers)
        except QuotaExceededError as exc:
            self._odds_monitor.idle_reason = f"credits: {exc}"
            log.warning("odds api: %s", exc)
            return
        except (ApiError, TransportError, ProtocolError) as exc:
            self._odds_monitor.error(str(exc), self.engine.monotonic())
            log.warning("odds api %s: %s", sport, exc)
            return
        self._odds_monitor.connected = True
        self._odds_monitor.idle_reason = ""
        self._odds_monitor.message(self.engine.monotonic())
        self.engine.apply_odds(sport, raw)

    async def _odds_loop(self) -> None:
        if self.odds is None:
            return
        while True:
            now = self.engine.clock.now()
            left = self.odds.budget.left_today(now)
            first = [s for s in self.kinds_by_sport if s not in self.last_polled and self._cost(s) <= left]
            ready, wait = due(self._targets(now), self.last_polled, left, now, self.settings.cadence)
            for sport in dict.fromkeys([*first, *ready]):
                await self.poll(sport)
            if not (first or ready):
                if left == 0:
                    self._odds_monitor.idle_reason = "no credits left today"
                self._wake_odds.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake_odds.wait(), max(0.05, min(wait, 5.0)))

    # -- periodic ---------------------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.tick_interval_s)
            self._ws_monitor.connected = self.ws.connected.is_set()
            self.engine.apply_tick()

    async def _snapshot_loop(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.engine.refresh_orders()
            self.engine.build_snapshot()
            await asyncio.sleep(self.settings.snapshot_interval_s)

    async def _balance_loop(self) -> None:
        while True:
            try:
                self.engine.cash_override = (await self.rest.balance()).balance
            except (ApiError, TransportError) as exc:
                log.warning("balance not read: %s", exc)
            await asyncio.sleep(self.settings.balance_interval_s)


def known_leagues() -> tuple[str, ...]:
    return tuple(LEAGUES)
