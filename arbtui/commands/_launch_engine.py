"""What ``arbtui launch`` runs (see :mod:`arbtui.commands.launch`): kept apart from the command's arguments
so that every other command starts without importing the engine's runtime, connectors and simulator."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from engine.clock import SYSTEM_CLOCK
from engine.config.settings import Settings, settings_for_command
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.ws import KalshiWebSocket
from engine.connectors.odds_api.client import OddsApiClient
from engine.errors import ArbError, ConfigError
from engine.execution.mode import live_refusal, trading_mode
from engine.execution.model import Mode
from engine.runtime.assemble import build_engine, replay
from engine.runtime.cadence import CadencePolicy
from engine.runtime.control import ControlServer, claim_instance
from engine.runtime.demo_sim import SimulatorThread
from engine.runtime.engine import Engine, EngineEvent, ReplayClock
from engine.runtime.feeds import FeedSettings, LiveFeeds
from engine.runtime.instance import data_directory
from engine.runtime.lag import LOOP_GIL_SWITCH_S
from engine.runtime.logqueue import start_log_thread
from engine.runtime.recording import Recorder, load_recording
from engine.runtime.storage import attach_storage, build_storage, warm_up
from engine.sim import SimConfig
from engine.store import open_store, resolve_location

EVENTS = "arbtui.events"
DEMO_CREDITS = 20_000
"""Odds API credits the embedded simulator grants a demo day: enough to poll every few seconds."""


class _HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        event: EngineEvent | None = getattr(record, "event", None)
        if event is not None:
            return f"{event.ts.strftime('%H:%M:%S')} {event.kind:<8} {event.message}"
        return f"{ts} {record.levelname.lower():<8} {record.getMessage()}"


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: EngineEvent | None = getattr(record, "event", None)
        if event is not None:
            doc: dict[str, Any] = {**event.data, "ts": event.ts.isoformat().replace("+00:00", "Z"),
                                   "kind": event.kind, "message": event.message}  # fmt: skip
        else:
            ts = datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z")
            doc = {"ts": ts, "kind": "log", "level": record.levelname.lower(), "logger": record.name,
                   "message": record.getMessage()}  # fmt: skip
        return json.dumps(doc, default=str)


def run_launch(args: argparse.Namespace) -> int:
    if not args.no_ui and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ArbError("the dashboard needs a terminal; run `arbtui launch --no-ui` for log lines (add --demo)")
    if not args.no_ui and args.replay is not None:
        raise ArbError("--replay prints event lines; add --no-ui")
    if args.replay is not None and (args.record is not None or args.demo):
        raise ArbError("--replay runs a recording; it cannot be combined with --record or --demo")
    settings = settings_for_command(args.env_file)
    if not settings.paper_trading and not settings.kalshi_key_id and not args.demo and args.replay is None:
        # real money was asked for: refuse, rather than quietly trade the paper demo the missing key implies
        raise ConfigError(live_refusal(settings) or "live trading refused: KALSHI_KEY_ID not set")
    recording = load_recording(args.replay) if args.replay is not None else None
    handler: logging.Handler = logging.StreamHandler(sys.stdout)
    if not args.no_ui:  # the screen is the dashboard's: event and log lines go to a file
        log_dir = data_directory(settings.database_url, os.environ)
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / "launch.log", encoding="utf-8")
    handler.setFormatter(_JsonFormatter() if args.log_format == "json" else _HumanFormatter())
    root = logging.getLogger()
    queue_handler, listener = start_log_thread(handler, root)
    for noisy in ("httpx", "httpcore", "websockets", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if recording is not None:
            asyncio.run(_replay(settings, recording))
        else:
            sys.setswitchinterval(LOOP_GIL_SWITCH_S)  # the loop wins the GIL back from workers sooner
            asyncio.run(_launch(settings, args, queue_handler))
    finally:
        listener.stop()
        root.removeHandler(queue_handler)
    return 0


def _say(kind: str, message: str, **data: Any) -> None:
    event = EngineEvent(datetime.now(UTC), kind, message, data)
    logging.getLogger(EVENTS).info(message, extra={"event": event})


async def _pump(engine: Engine) -> None:
    log = logging.getLogger(EVENTS)
    while True:
        event = await engine.events.get()
        log.info(event.message, extra={"event": event})


async def _replay(settings: Settings, recording: Any) -> None:
    header = recording.header
    start = recording.entries[0].ts if recording.entries else datetime.now(UTC)
    clock = ReplayClock(start)
    settings = settings.model_copy(update={"paper_trading": True})
    with tempfile.TemporaryDirectory(prefix="arbtui-replay-") as tmp:
        store = await open_store(Path(tmp) / "replay.db")
        try:
            engine, _ = await build_engine(settings, store, clock, Mode.PAPER, demo=bool(header.get("demo")))
            _say("start", f"arbtui REPLAY (PAPER) of {len(recording.entries)} inputs, profile "
                 f"{engine.pipeline.profile.name}", mode="PAPER", replay=True)  # fmt: skip
            pump = asyncio.create_task(_pump(engine))
            applied = await replay(engine, recording, clock)
            while len(engine.events):
                await asyncio.sleep(0)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            fills = await store.fills()
            _say("summary", f"replayed {applied} inputs: {engine.desk.sent} orders, {len(fills)} fills",
                 inputs=applied, orders=engine.desk.sent, fills=len(fills))  # fmt: skip
        finally:
            await store.close()


async def _demo_settings(settings: Settings, seed: int, markets: int = 48) -> tuple[Settings, SimulatorThread]:
    """The simulator on its own thread and loop (engine.runtime.demo_sim): its steps never delay the engine's."""
    if markets < 2:
        raise ArbError(f"--markets {markets}: the demo needs at least 2 markets (one game)")
    running = await SimulatorThread.start(SimConfig(seed=seed, markets=markets, odds_credits=DEMO_CREDITS * 10), 1.0)
    sim = running.sim
    updated = settings.model_copy(
        update={
            "kalshi_base_url": sim.kalshi_url,
            "kalshi_key_id": sim.key_id,
            "kalshi_private_key_path": sim.private_key_path,
            "odds_api_base_url": sim.odds_url,
            "odds_api_key": SecretStr(sim.odds_api_key),
            "odds_api_daily_credits": DEMO_CREDITS,
            "paper_trading": True,
        }
    )
    return updated, running


async def _launch(settings: Settings, args: argparse.Namespace, queue_handler: Any) -> None:
    demo = bool(args.demo or not settings.kalshi_key_id)
    sim: SimulatorThread | None = None
    data_dir = data_directory(settings.database_url, os.environ)
    lock = claim_instance(data_dir, os.environ, datetime.now(UTC))
    try:
        if demo:
            settings, sim = await _demo_settings(settings, args.seed, args.markets)
            mode = Mode.PAPER
        else:
            mode = trading_mode(settings, live=not settings.paper_trading)
        await _run(settings, args, mode, demo, lock, queue_handler, sim)
    finally:
        if sim is not None:
            await sim.close()
        lock.release()


async def _run(
    settings: Settings, args: argparse.Namespace, mode: Mode, demo: bool, lock: Any, queue_handler: Any,
    sim: SimulatorThread | None,
) -> None:  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # from the start: a stop asked while starting is a clean stop
        loop.add_signal_handler(signum, stop.set)
    clock = SYSTEM_CLOCK
    location = resolve_location(settings.database_url, os.environ)
    store = await open_store(location)
    rest = KalshiRestClient.from_settings(settings)
    ws = KalshiWebSocket.from_settings(settings)
    odds = OddsApiClient.from_settings(settings) if settings.odds_api_key is not None else None
    storage = build_storage(settings, data_directory(settings.database_url, os.environ))
    recorder = None
    try:
        if args.record is not None:
            recorder = Recorder(args.record, {"demo": demo, "mode": mode.value, "profile": settings.profile().name})
        engine, reconciled = await build_engine(settings, store, clock, mode, rest=rest, demo=demo, recorder=recorder)
        if mode is Mode.LIVE:
            first = f"arbtui LIVE trading REAL MONEY at {settings.kalshi_base_url}"
        elif demo:
            first = "arbtui DEMO (PAPER): embedded simulator on 127.0.0.1, no real orders"
        else:
            first = f"arbtui PAPER trading against {settings.kalshi_base_url} (no real orders)"
        _say("start", f"{first}; profile {engine.pipeline.profile.name}; store {location.path}; "
             f"control socket {lock.info.socket_path}", mode=mode.value.upper(), demo=demo,
             profile=engine.pipeline.profile.name)  # fmt: skip
        _say("reconcile", f"reconciled: {reconciled.resolved} orders resolved, {reconciled.fills} fills replayed"
             + ("" if reconciled.ok else f"; MISMATCH, starting HALTED: {reconciled.detail}"),
             ok=reconciled.ok, resolved=reconciled.resolved, fills=reconciled.fills)  # fmt: skip
        await attach_storage(engine, storage)
        _say("storage", f"storage: {storage.describe()}")
        policy = CadencePolicy(min_interval_s=5.0) if demo else CadencePolicy()
        feeds = LiveFeeds(engine, rest, ws, odds, FeedSettings(
            bookmakers=engine.pipeline.profile.books, cadence=policy,
            ws_stale_after_s=float(settings.max_feed_silence_s),
        ))  # fmt: skip
        if storage.cache is not None:
            await warm_up(engine, storage.cache, feeds.last_polled, max_book_age_s=float(settings.max_book_age_s),
                          max_odds_age_s=float(engine.pipeline.profile.max_quote_age_s))  # fmt: skip
        engine.extra_drops = lambda: {"log_lines": queue_handler.dropped}
        pump = asyncio.create_task(_pump(engine))
        async with ControlServer(engine, lock.info.socket_path):
            feeds.start()
            if args.no_ui:
                await stop.wait()
            else:
                from arbtui.app.run import run_dashboard  # Textual is imported only for the dashboard

                await run_dashboard(engine, stop)
            _say("stop", "stopping: no new orders; finishing the order in flight")
            await feeds.stop()
        engine.build_snapshot()
        while len(engine.events):
            await asyncio.sleep(0)
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        _say("stop", f"stopped cleanly: {engine.desk.sent} orders, {engine.desk.fills} fills this run",
             orders=engine.desk.sent, fills=engine.desk.fills)  # fmt: skip
    finally:
        await storage.sinks.close()
        if recorder is not None:
            recorder.close()
        if odds is not None:
            await odds.aclose()
        await rest.aclose()
        await store.close()
