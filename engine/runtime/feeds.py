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
import os
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.connectors.errors import ApiError, ProtocolError, QuotaExceededError, TransportError
from engine.connectors.kalshi.messages import MarketLifecycle, TickerUpdate
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.ws import KalshiWebSocket
from engine.connectors.odds_api.client import OddsApiClient
from engine.connectors.odds_api.quota import odds_cost
from engine.mapping.teams import LEAGUES, league_of_series
from engine.runtime.cadence import CadencePolicy, PollTarget, due
from engine.runtime.datawatch import Check
from engine.runtime.engine import Engine
from engine.runtime.lifecycle import apply_lifecycle
from engine.runtime.waits import cancel_and_wait, wait_event

log = logging.getLogger(__name__)

FALLBACK_SERIES: tuple[str, ...] = ("KXNFLGAME", "KXNBAGAME", "KXMLBGAME", "KXNHLGAME")
ODDS_MARKET_OF_KIND = {"winner": "h2h", "spread": "spreads", "total": "totals"}
BOOK_CHANNELS = ("orderbook_delta", "ticker")
ACCOUNT_CHANNELS = ("market_lifecycle_v2",)
POLLED_DOWN_AFTER = 3
"""Failed calls in a row (each after the client's own retries) that turn a polled API from DEGRADED to DOWN."""


@dataclass(slots=True)
class FeedSettings:
    leagues: tuple[str, ...] | None = None
    bookmakers: tuple[str, ...] = ()
    discovery_interval_s: float = 300.0
    tick_interval_s: float = 1.0
    snapshot_interval_s: float = 0.5
    ws_stale_after_s: float = 30.0
    balance_interval_s: float = 30.0
    overrides_interval_s: float = 1.0
    """How often the mapping overrides file is checked for an edit."""
    cadence: CadencePolicy = field(default_factory=CadencePolicy)
    latency_window: int = 10_000
    inline_budget_s: float = 0.001
    """Into a reader turn longer than this (a burst), book changes are coalesced: each market is re-priced
    once, with its newest book, when the reader yields, instead of once per delta."""
    flush_budget_s: float = 0.002
    """Work one deferred re-pricing pass may do before giving the loop back."""
    """Samples kept of each latency figure (book change -> signals updated, odds response -> applied)."""


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
        self._rest_monitor = engine.monitor("kalshi_rest", settings.discovery_interval_s * 2, POLLED_DOWN_AFTER)
        self._odds_monitor = engine.monitor("odds_api", 3600.0, POLLED_DOWN_AFTER)
        self._gaps_seen = 0
        self._applied_seen = 0
        self._connections_seen = 0
        self._overrides_stamp: tuple[int, int] | None = None
        self.book_latency_s: deque[float] = deque(maxlen=settings.latency_window)
        """Per book change: from the reader taking the message to the signals updated (seconds)."""
        self.odds_latency_s: deque[tuple[float, int]] = deque(maxlen=settings.latency_window)
        """Per Odds API response: (seconds from the response to every event's signals updated, events)."""
        self._dirty: dict[str, float] = {}
        """Books changed in a burst and not re-priced yet, with when their first change was taken."""
        self._flush_scheduled = False
        ws.watch_books(self._on_books)
        engine.settle_books = self._settle
        ws.watch_tickers(self._on_ticker)
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
            ("remap", self._remap_loop()),
        ]
        if self.engine.overrides is not None:
            work.append(("overrides", self._overrides_loop()))
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
        abandoned = await cancel_and_wait(self._tasks)
        if abandoned:
            self.engine.emit("error", f"engine tasks that would not stop were abandoned: {', '.join(abandoned)}")
        self._tasks.clear()
        await self.ws.close()

    # -- WebSocket ------------------------------------------------------------------------------------

    def _on_books(self, changed: Sequence[str], stale: Sequence[str]) -> None:
        """Inside the WebSocket reader: re-price each book the message changed, drop each one it distrusted."""
        now = self.engine.monotonic()
        self._ws_monitor.message(now)
        books = self.ws.books
        if books.gaps > self._gaps_seen:
            self._gaps_seen = books.gaps
            self._ws_monitor.error("seq gap: books resyncing", now)
        streamed = books.applied != self._applied_seen  # a delta (not a snapshot) changed these books
        self._applied_seen = books.applied
        self.engine.note_message(changed if streamed else ())
        for ticker in stale:
            self._dirty.pop(ticker, None)
            self.engine.apply_book(ticker, None)
        if not changed:
            return
        if self._dirty or time.perf_counter() - self.ws.turn_started_at > self.settings.inline_budget_s:
            for ticker in changed:  # a burst: re-price each market once, with its newest book
                self._dirty.setdefault(ticker, self.ws.frame_started_at)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                asyncio.get_running_loop().call_soon(self._flush)
            return
        for ticker in changed:
            self.engine.apply_book(ticker, self.ws.orderbook(ticker))
        self.book_latency_s.append(time.perf_counter() - self.ws.frame_started_at)

    def _flush(self) -> None:
        """Re-price the books a burst changed, oldest first, for at most ``flush_budget_s`` per loop turn."""
        self._flush_scheduled = False
        deadline = time.perf_counter() + self.settings.flush_budget_s
        while self._dirty and time.perf_counter() < deadline:
            ticker = next(iter(self._dirty))
            taken = self._dirty.pop(ticker)
            self.engine.apply_book(ticker, self.ws.orderbook(ticker))
            self.book_latency_s.append(time.perf_counter() - taken)
        if self._dirty:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _settle(self, tickers: Sequence[str]) -> None:
        """Before an order: the markets it trades are re-priced with their newest books first."""
        for ticker in tickers:
            taken = self._dirty.pop(ticker, None)
            if taken is not None:
                self.engine.apply_book(ticker, self.ws.orderbook(ticker))
                self.book_latency_s.append(time.perf_counter() - taken)

    def _on_ticker(self, update: TickerUpdate) -> None:
        """Inside the reader, in stream order: the book it describes is the local book as it stands now."""
        self._ws_monitor.message(self.engine.monotonic())
        self._settle((update.ticker,))  # compare with the newest book, not one a burst left waiting
        if self.engine.on_ticker(update.ticker, update.yes_bid, update.yes_ask) is Check.RESYNC:
            log.info("kalshi ws: book %s disagrees with its ticker prices; asking for a fresh snapshot", update.ticker)
            self.ws.resync([update.ticker])

    async def _ws_events(self) -> None:
        while True:
            msg = await self.ws.events.get()
            self._ws_monitor.connected = self.ws.connected.is_set()
            if isinstance(msg, MarketLifecycle):
                self.on_lifecycle(msg)
                if self.engine.paper_settler is not None:  # paper positions are paid when their market is
                    await self.engine.paper_settler.on_lifecycle(msg)
            elif not isinstance(msg, TickerUpdate):  # tickers were handled in stream order by _on_ticker
                self._ws_monitor.message(self.engine.monotonic())
                self.engine.note_message()

    def on_lifecycle(self, msg: MarketLifecycle) -> None:
        """Applied to the market at once (its signals withdrawn if it closed, settled or paused); a market
        created or changed in a league we trade asks for a fresh market list."""
        engine = self.engine
        change = apply_lifecycle(engine.pipeline.market(msg.ticker), msg, engine.clock.now())
        if change.market is not None:
            engine.apply_market(change.market)
        if change.rediscover and self._wanted(msg.ticker.split("-", 1)[0]):
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
        mark = self.engine.pipeline.lifecycle_mark()  # lifecycle changes after this are newer than the list
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
        await self.engine.load_universe(series, markets, mark)
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
            await wait_event(self._wake_discovery, self.settings.discovery_interval_s)
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
        started = time.perf_counter()
        events = await self.engine.load_odds(sport, raw)
        self.odds_latency_s.append((time.perf_counter() - started, events))

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
                await wait_event(self._wake_odds, max(0.05, min(wait, 5.0)))

    # -- periodic ---------------------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.tick_interval_s)
            connected = self.ws.connected.is_set()
            self._ws_monitor.connected = connected
            if self.ws.connections != self._connections_seen:  # silence counts from the newest connection
                self._connections_seen = self.ws.connections
                self.engine.connected_since = self.engine.clock.now()
            self.engine.apply_tick()
            await self.engine.check_data(connected and bool(self._subscribed))

    async def _remap_loop(self) -> None:
        """New games quoted or the overrides edited: map again off the loop (requests coalesce)."""
        while True:
            await self.engine.remap_wanted.wait()
            if self.engine.pipeline.universe.markets:
                await self.engine.remap()
            else:
                self.engine.remap_wanted.clear()

    def _overrides_stamp_now(self) -> tuple[int, int] | None:
        assert self.engine.overrides is not None
        try:
            stat = os.stat(self.engine.overrides.path)
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    async def _overrides_loop(self) -> None:
        """An edit of the overrides file re-maps within a second, without a restart."""
        self._overrides_stamp = self._overrides_stamp_now()
        while True:
            await asyncio.sleep(self.settings.overrides_interval_s)
            stamp = self._overrides_stamp_now()
            if stamp != self._overrides_stamp:
                self._overrides_stamp = stamp
                if stamp is None:
                    log.error("mapping overrides file %s is gone: no overrides are in force",
                              self.engine.overrides.path if self.engine.overrides else "?")  # fmt: skip
                self.engine.remap_wanted.set()

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
