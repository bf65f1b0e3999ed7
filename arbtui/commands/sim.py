"""``arbtui sim``: run the Kalshi + Odds API simulator in the foreground and print how to point at it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from engine.sim import SimConfig, start_simulator


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sim",
        help="run a local Kalshi + Odds API simulator",
        description=(
            "Serve a generated sports board over a Kalshi-compatible REST/WebSocket API and an "
            "Odds-API-compatible API on 127.0.0.1, and print the environment that points other commands at it."
        ),
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the board and price walk (default 1)")
    parser.add_argument("--kalshi-port", type=int, default=0, help="Kalshi port (default: a free port)")
    parser.add_argument("--odds-port", type=int, default=0, help="Odds API port (default: a free port)")
    parser.add_argument("--markets", type=int, default=48, help="winner markets to generate, two per game")
    parser.add_argument(
        "--step-interval", type=float, default=1.0, help="seconds between price steps; 0 freezes prices (default 1)"
    )
    parser.add_argument("--key-dir", type=Path, default=None, help="where to write the PEM key (default: a temp dir)")
    parser.add_argument("--env-file", type=Path, default=None, help="also write the env lines to this file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.markets < 2:
        print("arbtui sim: error: --markets must be at least 2", file=sys.stderr)
        return 2
    if args.step_interval < 0:
        print("arbtui sim: error: --step-interval must not be negative", file=sys.stderr)
        return 2
    config = SimConfig(seed=args.seed, kalshi_port=args.kalshi_port, odds_port=args.odds_port, markets=args.markets)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(config, args.step_interval, args.key_dir, args.env_file))
    return 0


async def _serve(config: SimConfig, step_interval: float, key_dir: Path | None, env_file: Path | None) -> None:
    if key_dir is not None:
        key_dir.mkdir(parents=True, exist_ok=True)
    sim = await start_simulator(config, key_dir)
    try:
        if step_interval > 0:
            sim.start_autostep(step_interval)
        lines = sim.env_lines()
        if env_file is not None:
            env_file.write_text(lines + "\n", encoding="utf-8")
        print(lines, flush=True)
        print(
            f"# {len(sim.exchange.markets)} markets in {len(sim.board.games)} games; "
            f"websocket {sim.ws_url}; Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await sim.close()
