"""What the engine remembers for the dashboard, and the assembly of a ``DashboardSnapshot`` from its state.

The engine tells a :class:`DashboardMemory` about its events, refusals and signal changes as they happen
(constant-time appends into bounded buffers, nothing else), samples edges on its snapshot cadence, and on
``dashboard()`` :func:`collect` reads the engine's current state through the pure builders of
:mod:`engine.runtime.dashboard_build` (rows only, pulled ten times a second); :func:`detail_of` builds the
one signal's detail the app asks for when the operator selects it. Orders and fills come from the store,
read at most once a second however often the dashboard asks (and at once after an order, fill or kill), so a
fast screen never loads the store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from engine.detection.signals import Side, Signal
from engine.runtime.dashboard import (
    ActivityLine,
    DashboardSnapshot,
    FillRow,
    OrderRow,
    Rejection,
    ShardLine,
    SignalDetail,
)
from engine.runtime.dashboard_build import (
    History,
    SignalKey,
    audit_trail,
    best_bid,
    feed_lines,
    fill_rows,
    limit_lines,
    market_names,
    next_gone,
    next_history,
    order_rows,
    position_rows,
    signal_detail,
    signal_rows,
)
from engine.runtime.desk import Desk
from engine.runtime.lag import LagMonitor
from engine.runtime.pipeline import Pipeline
from engine.runtime.snapshot import FeedHealth

ACTIVITY_KEEP = 300
REJECTIONS_KEEP = 20
TABLE_KEEP = 50
TABLE_REFRESH_S = 1.0
TABLE_EVENTS = frozenset({"order", "fill", "kill", "breaker"})


class DashboardMemory:
    """Bounded recent history the panes need and the engine does not otherwise keep."""

    def __init__(self) -> None:
        self.activity: deque[ActivityLine] = deque(maxlen=ACTIVITY_KEEP)
        self.rejections: deque[Rejection] = deque(maxlen=REJECTIONS_KEEP)
        self.gone: dict[SignalKey, tuple[Signal, datetime]] = {}
        self.history: History = {}
        self.orders: tuple[OrderRow, ...] = ()
        self.fills: tuple[FillRow, ...] = ()
        self.fills_total = 0
        self.resting = 0
        self.tables_at: float | None = None

    def on_event(self, ts: datetime, kind: str, message: str) -> None:
        self.activity.append(ActivityLine(ts, kind, message))
        if kind in TABLE_EVENTS:
            self.tables_at = None  # the orders and fills tables are read again on the next ask

    def on_rejection(self, ts: datetime, ticker: str, rule: str, detail: str) -> None:
        self.rejections.append(Rejection(ts, ticker, rule, detail))

    def on_signals(self, vanished: Iterable[Signal], live: Mapping[SignalKey, Signal], now: datetime) -> None:
        self.gone = next_gone(self.gone, vanished, live, now)

    def sample(self, live: Mapping[SignalKey, Signal], now: datetime) -> None:
        """Called on the engine's snapshot cadence: edge history for the sparklines, expired gone rows."""
        self.history = next_history(self.history, live, now)
        self.gone = next_gone(self.gone, (), live, now)


class Engine(Protocol):
    """What the dashboard reads from the running engine (:class:`engine.runtime.engine.Engine`), spelled out
    here so that this module needs nothing from the engine's module, which builds on this one."""

    dashboard_memory: DashboardMemory
    pipeline: Pipeline
    desk: Desk
    lag: LagMonitor
    demo: bool
    started_at: datetime

    def cash(self) -> Decimal | None: ...

    def feed_health(self) -> tuple[FeedHealth, ...]: ...


async def refresh_tables(engine: Engine, now_s: float) -> None:
    """Orders and fills from the store, unless read less than ``TABLE_REFRESH_S`` ago."""
    memory = engine.dashboard_memory
    if memory.tables_at is not None and now_s - memory.tables_at < TABLE_REFRESH_S:
        return
    memory.tables_at = now_s
    store = engine.desk.manager.store
    orders = await store.orders()
    memory.orders = order_rows(orders, TABLE_KEEP)
    memory.resting = sum(1 for r in orders if r.state.open)
    fills = await store.fills()
    memory.fills = fill_rows(fills, TABLE_KEEP)
    memory.fills_total = len(fills)


def signal_key(key: str) -> SignalKey | None:
    """The engine's key of a signal from the dashboard's row key (``kind|ticker|side``); None if malformed."""
    parts = key.split("|")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def detail_of(engine: Engine, key: str, now: datetime) -> SignalDetail | None:
    """The consensus pane of the live signal ``key`` at ``now``; None when it is not live (gone, or never
    was), which the pane shows as gone rather than as an error."""
    found = signal_key(key)
    signal = None if found is None else engine.pipeline.live.get(found)
    if signal is None or found is None:
        return None
    pipeline = engine.pipeline
    memory = engine.dashboard_memory
    match = pipeline.universe.mapping.matches.get(signal.ticker)
    event = None if match is None else pipeline.events.get(match.odds_event_id)
    return signal_detail(
        signal,
        event=event,
        match=match,
        book=pipeline.books.get(signal.ticker),
        profile=pipeline.profile,
        history=memory.history.get(found, ()),
        audit=audit_trail(memory.activity, signal.tickers or (signal.ticker,)),
        now=now,
    )


def collect(engine: Engine, now: datetime) -> DashboardSnapshot:
    """The dashboard's panes from the engine's state at ``now`` (synchronous: one consistent picture)."""
    memory = engine.dashboard_memory
    pipeline = engine.pipeline
    markets = pipeline.board.markets
    matches = pipeline.universe.mapping.matches

    def names(signal: Signal) -> tuple[str, str, str]:
        match = matches.get(signal.ticker)
        event = pipeline.events.get(signal.odds_event_id or (match.odds_event_id if match else ""))
        return market_names(markets.get(signal.ticker), event, signal.ticker)

    live = pipeline.live
    rows = signal_rows(live, pipeline.first_seen, memory.gone, names, now)
    activity = tuple(memory.activity)
    guard = engine.desk.guard
    ledger = engine.desk.ledger

    def mark(ticker: str, side: Side) -> Decimal | None:
        return best_bid(pipeline.books.get(ticker), side)

    cash = engine.cash()
    pnl = engine.desk.pnl(mark)
    lag = engine.lag.stats()
    return DashboardSnapshot(
        ts=now,
        mode=engine.desk.mode.value.upper(),
        demo=engine.demo,
        profile=pipeline.profile.name,
        breaker_state=guard.state.mode.value.upper(),
        breaker_reason=guard.state.reason,
        limits=limit_lines(guard.state, guard.limits, ledger, now),
        rejections=tuple(reversed(memory.rejections)),
        shards=(ShardLine(0, guard.limits.bankroll, cash),),
        realised=pnl.realised,
        unrealised=pnl.unrealised,
        fees=pnl.fees,
        today=pnl.today,
        feeds=feed_lines(engine.feed_health(), engine.started_at, now),
        lag_p50_ms=lag.p50_ms,
        lag_p99_ms=lag.p99_ms,
        signals=rows,
        positions=position_rows(ledger, mark, guard.state.reducing_events),
        orders=memory.orders,
        fills=memory.fills,
        activity=activity[-100:],
        resting_orders=memory.resting,
        fills_total=memory.fills_total,
        markets_mapped=len(matches),
    )
