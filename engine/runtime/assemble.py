"""Build one engine from settings: store, breaker, executor (paper or live), order manager, kill switch,
ledger, start-up reconciliation; and drive it from live feeds or from a recording.

The one place that knows which concrete parts make an engine, so the launch command, the tests and (later)
the dashboard get the same engine from the same settings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from engine.clock import Clock
from engine.config.profiles import Profile
from engine.config.settings import Settings
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.ws import KalshiWebSocket
from engine.execution.account_feed import AccountFeed
from engine.execution.executor import Executor
from engine.execution.groups import OrderGroups
from engine.execution.guard import BreakerGuard
from engine.execution.kill import KillSwitch
from engine.execution.live import LiveExecutor
from engine.execution.manager import OrderManager
from engine.execution.model import AuditEvent, AuditKind, Mode, SettlementRecord
from engine.execution.paper import PaperExecutor
from engine.execution.paper_settlement import PaperSettler, rest_market_doc
from engine.execution.recovery import recover
from engine.mapping.overrides import OverridesFile
from engine.markets.kalshi import KalshiMarket, Orderbook
from engine.portfolio.ledger import LedgerError
from engine.pricing.fees import DEFAULT_FEES, FeeSchedule
from engine.risk.limits import RiskLimits
from engine.runtime.desk import Desk
from engine.runtime.engine import Engine, ReplayClock, inline
from engine.runtime.pipeline import Pipeline
from engine.runtime.recording import Recorder, Recording, book_from, price_from, time_from
from engine.store.base import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What start-up reconciliation found: orders resolved, fills replayed into the ledger, and whether the
    store and the exchange agree (a disagreement starts the breaker HALTED)."""

    ok: bool
    resolved: int
    fills: int
    detail: str = ""


async def build_engine(
    settings: Settings,
    store: Store,
    clock: Clock,
    mode: Mode,
    *,
    rest: KalshiRestClient | None = None,
    demo: bool = False,
    recorder: Recorder | None = None,
    paper_latency_s: float = 0.0,
    account_ws: KalshiWebSocket | None = None,
    profiles: Callable[[str], Profile] | None = None,
) -> tuple[Engine, Reconciled]:
    """An engine over ``store``, reconciled before it can send anything. Live mode needs ``rest``, and gets
    an account feed over its own WebSocket (``account_ws``, by default one from the settings' key)."""
    profile = settings.profile()
    pipeline = Pipeline(profile, settings.trading_bankroll, settings.max_position_size)
    limits = RiskLimits.from_settings(settings, profile)
    now = clock.now
    guard = await BreakerGuard.open(store, limits, now(), mode=mode, start_cash=settings.trading_bankroll)

    def fees(ticker: str) -> FeeSchedule:
        market = pipeline.board.markets.get(ticker)
        return DEFAULT_FEES if market is None else pipeline.board.ctx.fees_for(market)

    def book(ticker: str) -> Orderbook | None:
        return pipeline.books.get(ticker)  # the pipeline replaces its dict on a new universe: look it up

    executor: Executor
    groups: OrderGroups | None = None
    if mode is Mode.LIVE:
        if rest is None:
            raise ValueError("live trading needs the Kalshi REST client")
        groups = OrderGroups(rest, max(1, settings.max_position_size * 10))
        executor = LiveExecutor(rest, groups, now)
    else:
        executor = PaperExecutor(books=book, fees=fees, now=now, latency_s=paper_latency_s)
    manager = OrderManager(store, executor, guard, now)
    kill = KillSwitch(manager, guard, now, rest if mode is Mode.LIVE else None, groups)
    desk = Desk(manager, guard, kill, now)
    manager.listen(lambda fill, record: desk.on_fill(fill, record.intent))  # fills from any path reach the ledger
    overrides = OverridesFile(settings.mapping_overrides_file) if settings.mapping_overrides_file else None
    engine = Engine(pipeline, desk, clock, settings.profile if profiles is None else profiles, demo=demo,
                    recorder=recorder, overrides=overrides,
                    limits_for=lambda p: RiskLimits.from_settings(settings, p))  # fmt: skip
    if mode is Mode.LIVE and rest is not None:
        ws = account_ws if account_ws is not None else KalshiWebSocket.from_settings(settings)
        engine.account_feed = AccountFeed(manager, ws, rest, guard, now)
    if mode is Mode.PAPER:

        def settled(s: SettlementRecord) -> None:
            engine.emit("settlement", f"settlement {s.ticker} at {s.value}: revenue {s.revenue}",
                        ticker=s.ticker, value=str(s.value), revenue=str(s.revenue))  # fmt: skip

        market_doc = None if rest is None else rest_market_doc(rest)
        engine.paper_settler = PaperSettler(manager, lambda: guard.ledger, now, market_doc, settled)
    reconciled = await reconcile(engine, mode, rest)
    return engine, reconciled


async def reconcile(engine: Engine, mode: Mode, rest: KalshiRestClient | None) -> Reconciled:
    """Before any order: resolve every order left NEW/SENT/UNKNOWN, and rebuild the ledger from the fills
    of this mode. Live mode also compares with the exchange (:func:`engine.execution.recovery.recover`)."""
    desk = engine.desk
    manager = desk.manager
    now = engine.clock.now
    if mode is Mode.LIVE and rest is not None:
        report = await recover(manager, rest, desk.guard, now)
        resolved, ok, detail = len(report.resolved), report.ok, "; ".join(report.mismatches)
    else:
        await manager.load()
        resolved_records = await manager.resolve_pending()
        resolved, ok, detail = len(resolved_records), True, ""
    fills = 0
    intents = {r.client_order_id: r.intent for r in await manager.store.orders()}
    for fill in await manager.store.fills():
        intent = intents.get(fill.client_order_id)
        if fill.mode is not mode or intent is None:
            continue
        try:
            desk.on_fill(fill, intent)
            fills += 1
        except LedgerError as exc:
            ok, detail = False, f"fill {fill.fill_id} does not fit the ledger: {exc}"
    if mode is Mode.PAPER:
        settled = 0 if engine.paper_settler is None else await engine.paper_settler.catch_up()  # decided while down
        data = {"ok": ok, "resolved": resolved, "fills": fills, "mode": mode.value, "settlements_added": settled}
        await manager.store.append_audit(AuditEvent(now(), AuditKind.RECONCILE, None, data))
        if not ok:
            await desk.guard.fail_closed(f"reconciliation: {detail}", now())
    desk.fills = 0
    engine._check_breaker()
    return Reconciled(ok, resolved, fills, detail)


async def replay(engine: Engine, recording: Recording, clock: ReplayClock, *, realtime: bool = False) -> int:
    """Feed every recorded input through ``engine`` at its recorded instant; orders are acted on after each
    input, before the next, so two replays of one recording make the same decisions. Returns entries applied.

    ``realtime`` sleeps the recorded gaps (watching a day unfold); otherwise it runs as fast as it can.
    """
    previous: datetime | None = None
    applied = 0
    recorder, engine.recorder = engine.recorder, None  # a replay never records itself
    offload, engine.offload = engine.offload, inline  # every step right here, in the recorded order
    try:
        for entry in recording.entries:
            if realtime and previous is not None:
                await asyncio.sleep(max(0.0, (entry.ts - previous).total_seconds()))
            previous = entry.ts
            clock.set(entry.ts)
            data = entry.data
            if entry.kind == "universe":
                engine.apply_universe(data.get("series", []), data.get("markets", []))
            elif entry.kind == "odds":
                engine.apply_odds(str(data.get("sport", "")), data.get("events", []))
            elif entry.kind == "book":
                ticker = str(data.get("ticker", ""))
                engine.apply_book(ticker, book_from(ticker, data))
            elif entry.kind == "tick":
                engine.apply_tick()
            elif entry.kind == "message":
                engine.note_message(tuple(data.get("streamed", ())))
            elif entry.kind == "ticker":  # a resync it asked for live is in the recorded books that follow
                bid, ask = price_from(data.get("yes_bid"), "yes_bid"), price_from(data.get("yes_ask"), "yes_ask")
                engine.on_ticker(str(data.get("ticker", "")), bid, ask)
            elif entry.kind == "check":
                engine.connected_since = time_from(data.get("since"), "since")
                await engine.check_data(bool(data.get("connected")))
            elif entry.kind == "market":
                _replay_market(engine, data)
            elif entry.kind == "profile":
                await engine.set_profile(str(data.get("name", "")))
            elif entry.kind == "halt":
                await engine.halt(str(data.get("reason", "")))
            elif entry.kind == "kill":
                await engine.kill(str(data.get("reason", "")))
            elif entry.kind == "resume":
                await engine.resume()
            await engine.drain_orders()
            applied += 1
    finally:
        engine.recorder = recorder
        engine.offload = offload
    return applied


def _replay_market(engine: Engine, data: dict[str, Any]) -> None:
    """A recorded lifecycle change, applied to the board's copy of the market (skipped if not on the board)."""
    market: KalshiMarket | None = engine.pipeline.market(str(data.get("ticker", "")))
    if market is None:
        return
    close = data.get("close_time")
    close_time = datetime.fromisoformat(close) if isinstance(close, str) else market.close_time
    engine.apply_market(replace(market, status=str(data.get("status", market.status)), close_time=close_time))
