"""The running engine: inputs -> pipeline -> signals -> desk (breaker, orders, store), commands, snapshots.

Every input (the market universe, an Odds API response, a book change, a re-evaluation tick, an operator
command) goes through one ``apply_*`` method that records it when recording and then hands it to the pure
:class:`~engine.runtime.pipeline.Pipeline`; the live feeds (:mod:`engine.runtime.feeds`) and a replay of a
recording call the same methods, which is what makes a replay reproduce a run. New and changed signals are
put in a latest-value mailbox that the order path drains on its own task, so a slow store or exchange never
stalls detection; the order path re-checks each signal is still live and its book still trusted first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.clock import Clock
from engine.config.profiles import Profile
from engine.detection.signals import Side, Signal
from engine.errors import ArbError, PayloadError
from engine.execution.account_feed import AccountFeed
from engine.execution.model import Mode
from engine.execution.paper_settlement import PaperSettler
from engine.mapping.cache import Mapper
from engine.mapping.overrides import OverridesFile
from engine.mapping.teams import league_of_series
from engine.markets.kalshi import KalshiMarket, Orderbook
from engine.markets.odds import OddsEvent, parse_odds_event
from engine.portfolio.ledger import LedgerError
from engine.risk.limits import RiskLimits
from engine.risk.proposal import FeedState
from engine.runtime.dashboard import DashboardSnapshot, SignalDetail
from engine.runtime.dashboard_feed import DashboardMemory, collect, detail_of, refresh_tables
from engine.runtime.datawatch import Check, FeedFacts, MismatchWatch, book_top, feed_verdict, ticker_prices
from engine.runtime.desk import Desk, MarketInfo
from engine.runtime.health import FeedMonitor
from engine.runtime.heap import frozen_objects, settle
from engine.runtime.lag import LagMonitor
from engine.runtime.mailbox import DropQueue, KeyedLatest
from engine.runtime.overrides_report import report_overrides
from engine.runtime.pipeline import Pipeline, SignalDiff, SignalKey
from engine.runtime.rebuild import BoardPlan, BuiltBoard, RawUniverse, build_board, parse_odds
from engine.runtime.recording import Recorder, book_doc, iso, price_doc
from engine.runtime.sinks import NULL_SINK, EngineSink
from engine.runtime.snapshot import (
    BreakerView,
    EngineSnapshot,
    FeedHealth,
    LimitUsage,
    MarketCounts,
    OrderCounts,
)
from engine.store.failclosed import FailClosedStore, StoreStatus

log = logging.getLogger(__name__)

Offload = Callable[[Callable[[], Any]], Awaitable[Any]]
"""Runs a CPU-heavy step (parsing, mapping, building a board) somewhere that does not block the loop."""
CATCH_UP_PER_TURN = 64
"""Changes replayed onto a freshly built board per loop turn (each costs tens of microseconds)."""
ODDS_PER_TURN = 8
"""Sportsbook events applied per loop turn when a large Odds API response arrives."""


async def inline(step: Callable[[], Any]) -> Any:
    """The :data:`Offload` of a replay or a test: run the step right here, so runs are repeatable."""
    return step()


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """One line worth an operator's attention: a signal, an order, a fill, a breaker or feed change."""

    ts: datetime
    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def limit_changes(before: RiskLimits, after: RiskLimits) -> dict[str, dict[str, str]]:
    """The breaker limits a profile switch changes, ``{"max_edge": {"from": "0.15", "to": "0.05"}}``, for the
    audit log: an operator reading it later sees which numbers the switch moved, not only the name."""
    out: dict[str, dict[str, str]] = {}
    for name in RiskLimits.__dataclass_fields__:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            out[name] = {"from": str(old), "to": str(new)}
    return out


class ReplayClock:
    """A clock that is wherever the replay says it is (never backwards)."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def ms(self) -> int:
        return int(self._now.timestamp() * 1000)

    def set(self, ts: datetime) -> None:
        self._now = max(self._now, ts)


class Engine:
    """One engine: its pipeline, its desk and its feeds' health. See :mod:`engine.runtime.control_api`."""

    def __init__(
        self,
        pipeline: Pipeline,
        desk: Desk,
        clock: Clock,
        profiles: Callable[[str], Profile],
        *,
        demo: bool = False,
        recorder: Recorder | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        max_events: int = 10_000,
        overrides: OverridesFile | None = None,
        offload: Offload = asyncio.to_thread,
        limits_for: Callable[[Profile], RiskLimits] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.desk = desk
        self.clock = clock
        self._profiles = profiles
        self._limits_for = limits_for
        """The breaker's limits for a profile (``RiskLimits.from_settings``): a switch rebuilds them too."""
        self.demo = demo
        self.recorder = recorder
        self.monotonic = monotonic
        self.overrides = overrides
        """MAPPING_OVERRIDES_FILE, re-read by every mapping pass when it changed (a bad edit keeps the last
        good overrides; the engine says so as an error event and the ``mapping_overrides`` health)."""
        self.mapper = Mapper(overrides)
        self.offload = offload
        self._rebuild_lock = asyncio.Lock()
        self.remap_wanted = asyncio.Event()
        """Set when quotes for games the mapping has not seen arrive; the feeds re-map off the loop."""
        self._overrides_error: str | None = None
        self.last_message_at: datetime | None = None
        """The market-data connection's last message of any kind, and its last streamed book change and
        ticker message: what the breaker's data-age trips read (engine.runtime.datawatch)."""
        self.last_delta_at: datetime | None = None
        self.last_ticker_at: datetime | None = None
        self.connected_since: datetime | None = None
        self.delta_seen_at: dict[str, datetime] = {}
        self.settle_books: Callable[[Sequence[str]], None] = lambda tickers: None
        """Re-price these markets now if a burst left their newest books waiting (the feeds set it)."""
        self.mismatch = MismatchWatch(desk.guard.limits.max_feed_silence)
        self.events: DropQueue[EngineEvent] = DropQueue("events", max_events)
        self.orders_box: KeyedLatest[SignalKey, Signal] = KeyedLatest("orders")
        self.lag = LagMonitor(monotonic=monotonic)
        self.monitors: dict[str, FeedMonitor] = {}
        self.extra_health: dict[str, Callable[[], dict[str, Any]]] = {}
        self.subscribed: Callable[[], int] = lambda: 0
        self.extra_drops: Callable[[], dict[str, int]] = dict
        """Drops counted outside the engine (the log writer's queue), shown with the engine's own."""
        self.started_at = clock.now()
        self.book_seen_at: dict[str, datetime] = {}
        self.ticker_seen: dict[str, tuple[datetime, Decimal | None, Decimal | None]] = {}
        self.cash_override: Decimal | None = None
        """Live mode: the exchange balance last read; paper mode uses the ledger's cash."""
        self.stopping = False
        self._snapshot: EngineSnapshot | None = None
        self._last_feed_states: dict[str, str] = {}
        self._last_breaker = desk.guard.mode.value
        desk.facts = self
        self._orders = OrderCounts()
        self._in_flight: asyncio.Task[Any] | None = None
        self.rejections: dict[str, int] = {}
        self.rebuild_needed = asyncio.Event()
        if isinstance(desk.manager.store, FailClosedStore):
            desk.manager.store.add_listener(self._store_changed)
        self.account_feed: AccountFeed | None = None
        self.paper_settler: PaperSettler | None = None
        """Paper mode: settles paper positions when the exchange decides their markets (the feeds call it)."""
        """Live mode: fills and order updates from the exchange's account channels (the feeds run it)."""
        self.dashboard_memory = DashboardMemory()
        """Recent activity, refusals, gone signals and edge history for the dashboard (bounded)."""
        self.sink: EngineSink = NULL_SINK
        """Storage besides memory (Redis, QuestDB, local history); its calls never block (engine.runtime.sinks)."""

    # -- events ---------------------------------------------------------------------------------------

    def emit(self, kind: str, message: str, /, **data: Any) -> None:
        now = self.clock.now()
        self.events.put(EngineEvent(now, kind, message, data))
        self.dashboard_memory.on_event(now, kind, message)

    def monitor(self, name: str, stale_after_s: float, down_after_failures: int | None = None) -> FeedMonitor:
        m = self.monitors.get(name)
        if m is None:
            m = self.monitors[name] = FeedMonitor(name, stale_after_s, down_after_failures=down_after_failures)
        return m

    # -- inputs ---------------------------------------------------------------------------------------

    def _record(self, kind: str, **data: Any) -> None:
        if self.recorder is not None:
            self.recorder.record(kind, self.clock.now(), **data)

    def apply_universe(self, series_raw: Sequence[Any], markets_raw: Sequence[Any]) -> None:
        """The markets discovery found (raw, as served) become the board at once (replays, tests); the live
        feeds use :meth:`load_universe`, which builds it off the loop."""
        self._record("universe", series=list(series_raw), markets=list(markets_raw))
        self._rebuild_here(self.pipeline.begin(raw=RawUniverse(series_raw, markets_raw), mapper=self.mapper,
                                               now=self.clock.now()))  # fmt: skip

    async def load_universe(self, series_raw: Sequence[Any], markets_raw: Sequence[Any], list_after: int) -> None:
        """A fresh market list (requested at lifecycle mark ``list_after``), parsed, mapped and built into a
        board in a worker; the loop only copies the state out and swaps the caught-up board in."""
        raw = RawUniverse(series_raw, markets_raw)
        await self._rebuild(lambda now: self.pipeline.begin(raw=raw, mapper=self.mapper, list_after=list_after,
                                                            now=now),
                            "universe", series=list(series_raw), markets=list(markets_raw))  # fmt: skip

    async def remap(self) -> None:
        """Map the current markets again (new games quoted, the overrides file changed), off the loop."""
        self.remap_wanted.clear()
        await self._rebuild(lambda now: self.pipeline.begin(mapper=self.mapper, now=now), None)

    async def _rebuild(self, begin: Callable[[datetime], BoardPlan], record: str | None, **data: Any) -> None:
        async with self._rebuild_lock:
            plan = begin(self.clock.now())
            try:
                built: BuiltBoard = await self.offload(lambda: build_board(plan))
                while not self.pipeline.catch_up(built, CATCH_UP_PER_TURN):
                    await asyncio.sleep(0)  # the old board serves meanwhile; swap only when caught up
            except BaseException:
                self.pipeline.abandon()
                raise
            if record is not None:
                self._record(record, **data)
            self._install(built)

    def _rebuild_here(self, plan: BoardPlan) -> None:
        built = build_board(plan)
        while not self.pipeline.catch_up(built, 1 << 30):
            pass
        self._install(built)

    def _install(self, built: BuiltBoard) -> None:
        now = self.clock.now()
        before = len(self.pipeline.universe.mapping.matches)
        self._handle(self.pipeline.install(built, now), now)
        for problem in built.problems:
            log.warning("%s", problem)
        universe = self.pipeline.universe
        if len(universe.mapping.matches) != before:
            self.emit("mapping", f"{len(universe.markets)} markets discovered, {len(universe.mapping.matches)} "
                      "mapped", discovered=len(universe.markets), mapped=len(universe.mapping.matches))  # fmt: skip
        self._overrides_checked()
        settle()
        log.debug("board installed; %d objects frozen out of the garbage collector's walk", frozen_objects())

    def _overrides_checked(self) -> None:
        if self.overrides is not None:
            self._overrides_error = report_overrides(self, self.overrides, self._overrides_error)

    def apply_odds(self, sport: str, raw_events: Sequence[Any]) -> None:
        self._record("odds", sport=sport, events=list(raw_events))
        now = self.clock.now()
        parsed: list[OddsEvent] = []
        for raw in raw_events:
            try:
                parsed.append(parse_odds_event(raw, american=True))
            except PayloadError as exc:
                log.warning("odds api: skipped a bad event: %s", exc)
        new_ids = {e.id for e in parsed} - self.pipeline.events.keys()
        self._handle(self.pipeline.on_odds(parsed, now), now)
        self.sink.odds(sport, raw_events, parsed, now)
        if new_ids and self.pipeline.universe.markets:  # games the mapping had no quotes for may map now
            if self.pipeline.rebuilding:
                self.remap_wanted.set()
            else:
                self._rebuild_here(self.pipeline.begin(mapper=self.mapper, now=now))

    async def load_odds(self, sport: str, raw_events: Sequence[Any]) -> int:
        """An Odds API response: parsed in a worker, applied here a few events per loop turn (each event's
        markets re-priced together); new games ask for a re-map off the loop. Returns the events applied."""
        self._record("odds", sport=sport, events=list(raw_events))
        parsed, problems = await self.offload(lambda: parse_odds(raw_events))
        for problem in problems:
            log.warning("odds api: skipped a bad event: %s", problem)
        new_ids = {e.id for e in parsed} - self.pipeline.events.keys()
        for start in range(0, len(parsed), ODDS_PER_TURN):
            if start:
                await asyncio.sleep(0)
            now = self.clock.now()
            self._handle(self.pipeline.on_odds(parsed[start : start + ODDS_PER_TURN], now), now)
        self.sink.odds(sport, raw_events, parsed, self.clock.now())
        if new_ids and self.pipeline.universe.markets:
            self.remap_wanted.set()
        return len(parsed)

    def apply_market(self, market: KalshiMarket) -> None:
        """A lifecycle change of a market on the board (engine.runtime.lifecycle): its signals go at once."""
        close = None if market.close_time is None else market.close_time.isoformat()
        self._record("market", ticker=market.ticker, status=market.status, close_time=close)
        now = self.clock.now()
        self._handle(self.pipeline.on_market(market, now), now)
        self.emit("market", f"market {market.ticker} is {market.status}", ticker=market.ticker, status=market.status)

    def apply_book(self, ticker: str, book: Orderbook | None) -> None:
        self._record("book", ticker=ticker, **book_doc(book))
        now = self.clock.now()
        if book is not None:
            self.book_seen_at[ticker] = now
        self._handle(self.pipeline.on_book(ticker, book, now), now)
        self.sink.book(ticker, book, now)

    def apply_tick(self) -> None:
        self._record("tick")
        now = self.clock.now()
        self._handle(self.pipeline.tick(now), now)

    def note_message(self, streamed: Sequence[str] = ()) -> None:
        """A message arrived on the market-data connection; ``streamed``: the books it changed by a delta."""
        self._record("message", streamed=list(streamed))
        now = self.clock.now()
        self.last_message_at = now
        if streamed:
            self.last_delta_at = now
            for ticker in streamed:
                self.delta_seen_at[ticker] = now

    def on_ticker(self, ticker: str, yes_bid: Decimal | None, yes_ask: Decimal | None) -> Check:
        """A ``ticker`` message, in stream order with the books: noted for the breaker, and compared with the
        local book (a disagreement asks the caller to resync that book; see engine.runtime.datawatch)."""
        self._record("ticker", ticker=ticker, yes_bid=price_doc(yes_bid), yes_ask=price_doc(yes_ask))
        now = self.clock.now()
        prices = ticker_prices(yes_bid, yes_ask)
        self.ticker_seen[ticker] = (now, *prices)
        self.last_message_at = self.last_ticker_at = now
        if ticker not in self.pipeline.board.markets:
            return Check.AGREES
        book = self.pipeline.books.get(ticker)
        top = None if book is None else book_top(book)
        return self.mismatch.check(ticker, top, prices, now, self.delta_seen_at.get(ticker))

    async def check_data(self, connected: bool) -> None:
        """The breaker's data trips: REDUCING while the market-data feed is stalled on an open connection,
        lifted once it flows; HALTED when a book disagrees with the ticker channel even after a resync."""
        since = None if self.connected_since is None else iso(self.connected_since)
        self._record("check", connected=connected, since=since)
        now = self.clock.now()
        guard = self.desk.guard
        facts = FeedFacts(connected, len(self.pipeline.books), self.connected_since, self.last_message_at,
                          self.last_delta_at, self.last_ticker_at)  # fmt: skip
        verdict = feed_verdict(facts, guard.limits.max_book_age, guard.limits.max_feed_silence, now)
        if verdict.rule is not None:
            await guard.data_stale(verdict.rule, verdict.detail, now)
        else:
            await guard.data_fresh(now)
        for ticker, disagreement in self.mismatch.take_tripped().items():
            if self.mismatch.stands(ticker, disagreement):  # checked at each halt: a resume may come between
                await guard.book_mismatch(disagreement.detail(ticker), now)
        self._check_breaker()

    def _handle(self, diff: SignalDiff, now: datetime) -> None:
        if not diff:
            return
        self.pipeline.note_seen(diff, now)
        for s in diff.appeared:
            data = s.to_json()
            self.emit("signal", f"signal {s.kind.value} {s.ticker} {s.side.value.upper()} ask {data['ask']} "
                      f"count {s.count} ev {data['ev']}", signal=data)  # fmt: skip
        for s in (*diff.appeared, *diff.changed):
            self.orders_box.put(s.key, s)
        for s in diff.gone:
            self.orders_box.discard(s.key)
        self.dashboard_memory.on_signals(diff.gone, self.pipeline.live, now)
        self.sink.signals((*diff.appeared, *diff.changed), diff.gone, now)

    # -- the order path ---------------------------------------------------------------------------------

    def _actionable(self, key: SignalKey, signal: Signal) -> bool:
        """Only the signal as it stands now, on books still trusted: a stale signal is never acted on."""
        if self.pipeline.live.get(key) != signal:
            return False
        tickers = signal.tickers or (signal.ticker,)
        return all(t in self.pipeline.books for t in tickers)

    async def _submit(self, key: SignalKey, signal: Signal) -> None:
        if self.stopping:
            return
        self.settle_books(signal.tickers or (signal.ticker,))
        if not self._actionable(key, signal):
            return
        first_seen = self.pipeline.first_seen.get(key, self.clock.now())
        try:
            outcome = await self.desk.submit(signal, first_seen)
        except (ArbError, LedgerError) as exc:
            log.error("order path for %s %s failed: %s", signal.ticker, signal.side.value, exc)
            self.emit("error", f"order path for {signal.ticker} failed: {exc}", ticker=signal.ticker)
            return
        for p in outcome.placements:
            if not p.allowed:
                self.rejections[p.rule] = self.rejections.get(p.rule, 0) + 1
                self.dashboard_memory.on_rejection(self.clock.now(), p.intent.ticker, p.rule, p.detail)
                log.debug("order on %s refused: %s %s", p.intent.ticker, p.rule, p.detail)
                continue
            record = p.record
            state = record.state.value if record is not None else "?"
            filled = record.filled_count if record is not None else 0
            i = p.intent
            why = f" ({record.reason})" if record is not None and record.reason else ""
            self.emit("order", f"order {i.mode.value.upper()} buy {i.count} {i.side.value.upper()} {i.ticker} "
                      f"limit {i.limit_price} -> {state}, {filled} filled{why}", client_order_id=i.client_order_id,
                      ticker=i.ticker, side=i.side.value, count=i.count, limit_price=str(i.limit_price),
                      state=state, filled=filled, mode=i.mode.value)  # fmt: skip
            if record is not None and filled:
                for f in await self.desk.manager.store.fills(client_order_id=record.client_order_id):
                    self.emit("fill", f"fill {f.count} {f.side.value.upper()} {f.ticker} at {f.price} fee {f.fee}",
                              fill_id=f.fill_id, client_order_id=f.client_order_id, ticker=f.ticker,
                              side=f.side.value, count=f.count, price=str(f.price), fee=str(f.fee),
                              mode=f.mode.value)  # fmt: skip
                    self.sink.fill(f)
        self._check_breaker()

    async def drain_orders(self) -> None:
        """Act on every pending signal now (a replay does this after each input, so runs are repeatable)."""
        while (item := self.orders_box.take_nowait()) is not None:
            await self._submit(*item)

    async def run_orders(self) -> None:
        while not self.stopping:
            key, signal = await self.orders_box.take()
            self._in_flight = asyncio.ensure_future(self._submit(key, signal))
            try:
                await asyncio.shield(self._in_flight)
            finally:
                self._in_flight = None

    async def finish_in_flight(self, timeout_s: float) -> None:
        """Stop: no new order; the one being placed finishes (resolved, or left SENT/UNKNOWN in the store
        for the next start's recovery) within ``timeout_s``."""
        self.stopping = True
        task = self._in_flight
        if task is not None:  # asyncio.wait: neither cancels the order on timeout nor swallows our own cancel
            await asyncio.wait({task}, timeout=timeout_s)

    async def _store_changed(self, status: StoreStatus) -> None:
        """The database was lost (HALTED for new entries, writes queued) or is back (queue replayed in order;
        the halt stays until the operator resumes, see ``BreakerGuard.store_lost``)."""
        if not status.available:
            await self.desk.guard.store_lost(status.reason, self.clock.now())
            self.emit("store", f"database lost: {status.reason}; HALTED for new entries, writes queued",
                      state="lost", reason=status.reason)  # fmt: skip
        elif status.refused:
            self.emit("store", f"database back, but {len(status.refused)} queued writes were refused: "
                      f"{status.refused[0]}", state="refused", refused=list(status.refused))  # fmt: skip
        else:
            self.emit("store", f"database back: {status.replayed} queued writes committed in order; "
                      "resume to trade", state="back", replayed=status.replayed)  # fmt: skip
        self._check_breaker()

    # -- commands (engine.runtime.control_api.EngineControl) -------------------------------------------

    async def halt(self, reason: str) -> None:
        self._record("halt", reason=reason)
        await self.desk.kill_switch.halt(reason)
        await self._after_stop_command()
        self.build_snapshot()  # checks the breaker; the control socket answers with this snapshot

    async def _after_stop_command(self) -> None:
        """An order the breaker passed just before a halt or kill finishes first, and the order counts are
        read again, so the command's answer shows the state the operator is left with."""
        task = self._in_flight
        if task is not None:
            await asyncio.wait({task}, timeout=10.0)
        with contextlib.suppress(Exception):  # a store that cannot answer leaves the last counts shown
            await self.refresh_orders()

    async def kill(self, reason: str) -> None:
        self._record("kill", reason=reason)
        report = await self.desk.kill_switch.kill(reason)
        self.emit("kill", f"kill: {len(report.cancelled)} orders cancelled, {len(report.triggered)} groups "
                  f"triggered" + ("" if report.complete else f"; errors: {'; '.join(report.errors)}"),
                  reason=reason, complete=report.complete)  # fmt: skip
        await self._after_stop_command()
        self.build_snapshot()

    async def resume(self) -> None:
        self._record("resume")
        self.mismatch.reset()  # the operator looked: every disagreement starts again with fresh snapshots
        await self.desk.kill_switch.resume()
        self.build_snapshot()

    async def set_profile(self, name: str) -> None:
        """In force when this returns: the board is rebuilt for it off the loop and swapped in."""
        profile = self._profiles(name)  # an unknown name raises ConfigError listing the known ones
        # built before anything changes: limits that cannot work refuse the switch and leave the old in force
        limits = self._limits_for(profile) if self._limits_for is not None else None
        await self._rebuild(lambda now: self.pipeline.begin(universe=self.pipeline.universe, profile=profile,
                                                            now=now), "profile", name=profile.name)  # fmt: skip
        guard = self.desk.guard
        changed = {} if limits is None else limit_changes(guard.limits, limits)
        if limits is not None:
            guard.limits = limits  # the breaker's next check (the next evaluation's order) uses them
        audit = {"risk_limits": changed} if changed else {}
        await self.desk.manager.store.record_profile_change(profile.name, audit, self.clock.now())
        self.emit("profile", f"profile {profile.name} (in force)", profile=profile.name)
        self.build_snapshot()

    # -- snapshots ------------------------------------------------------------------------------------

    def _check_breaker(self) -> None:
        state = self.desk.guard.state
        value = state.mode.value
        if value != self._last_breaker:
            reason = state.reason
            self.emit("breaker", f"breaker {self._last_breaker or '?'} -> {value}" + (f": {reason}" if reason else ""),
                      state=value, reason=reason)  # fmt: skip
            self._last_breaker = value

    def _breaker_view(self) -> BreakerView:
        state, limits = self.desk.guard.state, self.desk.guard.limits
        day = state.day
        usage = {
            "daily_loss": LimitUsage(str(limits.max_daily_loss), str(day.loss)),
            "daily_trades": LimitUsage(str(limits.max_daily_trades), str(day.trades)),
            "daily_contracts": LimitUsage(str(limits.max_daily_contracts), str(day.contracts)),
            "daily_fees": LimitUsage(str(limits.max_daily_fees), str(day.fees)),
            "consecutive_losses": LimitUsage(str(limits.max_consecutive_losses), str(state.consecutive_losses)),
            "total_exposure": LimitUsage(
                str(limits.bankroll * limits.max_total_exposure), str(self.desk.positions().exposure)
            ),
        }
        return BreakerView(state.mode.value.upper(), state.reason, usage, self.desk.legged())

    def feed_health(self) -> tuple[FeedHealth, ...]:
        now = self.monotonic()
        out = []
        for name, m in self.monitors.items():
            extra = self.extra_health.get(name)
            out.append(m.assess(now, extra() if extra is not None else None))
        return (*out, *self.sink.health())

    def _mark(self, ticker: str, side: Side) -> Decimal | None:
        book = self.pipeline.books.get(ticker)
        if book is None:
            return None
        bids = book.yes_bids if side is Side.YES else book.no_bids
        return bids[0].price if bids else None

    async def refresh_orders(self) -> None:
        open_, unknown = await self.desk.open_orders()
        self._orders = OrderCounts(open_, unknown, self.desk.sent, self.desk.fills)

    def build_snapshot(self) -> EngineSnapshot:
        now = self.clock.now()
        feeds = self.feed_health()
        for f in feeds:
            before = self._last_feed_states.get(f.name)
            if before != f.state.value:
                self._last_feed_states[f.name] = f.state.value
                self.emit("feed", f"feed {f.name}: {before or 'new'} -> {f.state.value}"
                          + (f" ({f.detail})" if f.detail else ""), feed=f.name, state=f.state.value)  # fmt: skip
        self._check_breaker()
        self.dashboard_memory.sample(self.pipeline.live, now)
        universe = self.pipeline.universe
        snap = EngineSnapshot(
            ts=now,
            mode=self.desk.mode.value.upper(),
            demo=self.demo,
            profile=self.pipeline.profile.name,
            breaker=self._breaker_view(),
            feeds=feeds,
            loop_lag=self.lag.stats(),
            markets=MarketCounts(len(universe.markets), len(universe.mapping.matches), self.subscribed()),
            signals=self.pipeline.signals(),
            orders=OrderCounts(self._orders.open, self._orders.unknown, self.desk.sent, self.desk.fills),
            positions=self.desk.positions(),
            pnl=self.desk.pnl(self._mark),
            drops={
                "events": self.events.dropped,
                "orders_coalesced": self.orders_box.overwritten,
                "orders_dropped": self.orders_box.dropped,
                **self.extra_drops(),
                **self.sink.drops(),
            },
            evaluation_errors=self.pipeline.errors,
            started_at=self.started_at,
        )
        self._snapshot = snap
        self.sink.status(snap)
        return snap

    def snapshot(self) -> EngineSnapshot:
        """The latest snapshot (built by the snapshot task); never waits on the pipeline."""
        return self._snapshot if self._snapshot is not None else self.build_snapshot()

    async def dashboard(self) -> DashboardSnapshot:
        """Everything the dashboard shows, from the state as it is now (orders and fills read from the
        store at most once a second)."""
        await refresh_tables(self, self.monotonic())
        return collect(self, self.clock.now())

    async def signal_detail(self, key: str) -> SignalDetail | None:
        """The selected signal's consensus pane (books, ladder, fees, edge history, hedges, audit trail);
        None once it is no longer live."""
        return detail_of(self, key, self.clock.now())

    # -- what the desk asks (engine.runtime.desk.MarketFacts) ------------------------------------------

    def info(self, ticker: str) -> MarketInfo | None:
        market = self.pipeline.board.markets.get(ticker)
        if market is None:
            return None
        found = league_of_series(market.series_ticker)
        league = found[0].key if found is not None else ""
        series = self.pipeline.universe.series.get(market.series_ticker)
        fees = self.pipeline.board.ctx.fees_for(market) if series is None else series.fees
        return MarketInfo(market.event_ticker, league, fees, market.exchange_index)

    def feed(self, ticker: str) -> FeedState:
        book = self.pipeline.books.get(ticker)
        seen = self.book_seen_at.get(ticker)
        ticker_at, t_bid, t_ask = self.ticker_seen.get(ticker, (None, None, None))
        best_bid, best_ask = (None, None) if book is None else book_top(book)
        # a trusted book is current as long as its (seq-checked) stream is alive, even if it did not change
        current = None if book is None or seen is None else max(seen, self.last_message_at or seen)
        return FeedState(
            book_at=current, last_book_change_at=seen, last_ticker_at=ticker_at,
            book_yes_bid=best_bid, book_yes_ask=best_ask, ticker_yes_bid=t_bid, ticker_yes_ask=t_ask,
        )  # fmt: skip

    def quotes_at(self, signal: Signal) -> datetime | None:
        if signal.odds_event_id is None:
            return None
        event = self.pipeline.events.get(signal.odds_event_id)
        if event is None:
            return None
        times = [b.last_update for b in event.bookmakers if b.key in signal.books]
        return min(times) if times else None

    def cash(self) -> Decimal | None:
        if self.desk.mode is Mode.PAPER:
            return self.desk.ledger.cash
        return self.cash_override
