"""Start and stop the simulator: both venue servers on 127.0.0.1, the credentials, the scenario.

``async with run_simulator(SimConfig(seed=1)) as sim`` gives a :class:`Simulator` handle whose URLs,
key and state are what clients and tests use.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from engine.clock import SYSTEM_CLOCK, Clock
from engine.sim.auth import Credentials, issue_credentials
from engine.sim.board import Board, generate_board
from engine.sim.config import SimConfig
from engine.sim.context import SimContext
from engine.sim.exchange import Exchange
from engine.sim.faults import Faults
from engine.sim.kalshi_http import API, build_kalshi_app
from engine.sim.kalshi_ws import WS_PATH, WebSocketHub
from engine.sim.odds_http import OddsServer, build_odds_app
from engine.sim.odds_state import OddsState
from engine.sim.ratelimit import TokenBucket
from engine.sim.scenario import Scenario
from engine.sim.snapshot import dump_snapshot


@dataclass(slots=True)
class Simulator:
    """A running simulator. Close it with ``await sim.close()`` (``run_simulator`` does it for you)."""

    config: SimConfig
    kalshi_url: str
    ws_url: str
    odds_url: str
    key_id: str
    private_key_path: Path
    odds_api_key: str
    exchange: Exchange
    scenario: Scenario
    odds_server: OddsServer
    faults: Faults
    credentials: Credentials
    ws: WebSocketHub
    context: SimContext
    clock: Clock
    _runners: list[web.AppRunner] = field(default_factory=list)
    _tmpdir: Path | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def odds(self) -> OddsState:
        return self.odds_server.state

    @property
    def board(self) -> Board:
        return self.exchange.board

    def env_lines(self) -> str:
        """The environment that points ``arbtui`` commands at this simulator."""
        return (
            f"KALSHI_BASE_URL={self.kalshi_url}\n"
            f"KALSHI_KEY_ID={self.key_id}\n"
            f"KALSHI_PRIVATE_KEY_PATH={self.private_key_path}\n"
            f"ODDS_API_BASE_URL={self.odds_url}\n"
            f"ODDS_API_KEY={self.odds_api_key}"
        )

    def snapshot(self) -> dict[str, Any]:
        """A scan snapshot of the current state (the format ``arbtui scan`` reads)."""
        return dump_snapshot(self.exchange, self.odds_server, self.clock.now())

    def start_autostep(self, interval_s: float) -> None:
        """Step the scenario every ``interval_s`` seconds in the background (``arbtui sim`` does this)."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(interval_s)
                await self.scenario.step()

        self._tasks.append(asyncio.create_task(loop()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.ws.close_all()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


async def _serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or ()
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, int(bound)


async def start_simulator(
    config: SimConfig | None = None, key_dir: Path | None = None, clock: Clock = SYSTEM_CLOCK
) -> Simulator:
    """Build the board, issue credentials, start both servers and quote the first prices.

    Every time the simulator reads (board, expiries, signature windows, settlements) comes from ``clock``.
    """
    cfg = config or SimConfig()
    now = clock.now()
    board = generate_board(cfg.seed, max(1, cfg.markets // 2), cfg.leagues, now)
    tmpdir = None
    if key_dir is None:
        tmpdir = Path(tempfile.mkdtemp(prefix="arbtui-sim-"))
        key_dir = tmpdir
    creds = issue_credentials(key_dir)
    faults = Faults()
    exchange = Exchange(board, now, cfg.starting_balance)
    ctx = SimContext(
        config=cfg,
        exchange=exchange,
        faults=faults,
        credentials=creds,
        read_bucket=TokenBucket(cfg.read_rate, cfg.read_capacity),
        write_bucket=TokenBucket(cfg.write_rate, cfg.write_capacity),
        clock=clock.now,
    )
    odds_state = OddsState(board, cfg.bookmakers, cfg.odds_credits)
    odds_server = OddsServer(
        odds_state, secrets.token_hex(16), faults, cfg.odds_rate, ctx.now, enforce_rate=cfg.rate_limits
    )
    scenario = Scenario(cfg, board, exchange, odds_state, ctx.now)
    scenario.quote_all()
    hub = WebSocketHub(ctx)
    kalshi_app = build_kalshi_app(ctx)
    hub.install(kalshi_app)
    runners: list[web.AppRunner] = []
    try:
        k_runner, k_port = await _serve(kalshi_app, cfg.host, cfg.kalshi_port)
        runners.append(k_runner)
        o_runner, o_port = await _serve(build_odds_app(odds_server), cfg.host, cfg.odds_port)
        runners.append(o_runner)
    except BaseException:
        for runner in runners:
            await runner.cleanup()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    return Simulator(
        config=cfg,
        kalshi_url=f"http://{cfg.host}:{k_port}{API}",
        ws_url=f"ws://{cfg.host}:{k_port}{WS_PATH}",
        odds_url=f"http://{cfg.host}:{o_port}",
        key_id=creds.key_id,
        private_key_path=creds.private_key_path,
        odds_api_key=odds_server.api_key,
        exchange=exchange,
        scenario=scenario,
        odds_server=odds_server,
        faults=faults,
        credentials=creds,
        ws=hub,
        context=ctx,
        clock=clock,
        _runners=runners,
        _tmpdir=tmpdir,
    )


@contextlib.asynccontextmanager
async def run_simulator(
    config: SimConfig | None = None, key_dir: Path | None = None, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[Simulator]:
    sim = await start_simulator(config, key_dir, clock)
    try:
        yield sim
    finally:
        await sim.close()
