"""``arbtui sim``: run the Kalshi + Odds API simulator in the foreground and print how to point at it.

``--env-file`` names the simulator's key file and Odds API key, so it is written mode 0600 (like the key) and
replaced whole, never left half-written. It only ever replaces a file it wrote itself (marked on its first
line), so a typo such as ``--env-file .env`` cannot overwrite an operator's real settings. Every path and port
is checked before anything is started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import ArbError

if TYPE_CHECKING:
    from engine.sim import SimConfig

MAX_PORT = 65535
ENV_MARKER = "# written by arbtui sim: points arbtui at the local simulator; safe to delete"


class SimStartError(ArbError):
    """The simulator cannot start as asked: a port taken or out of range, a directory not writable."""


def port(text: str) -> int:
    """A TCP port, 0 meaning any free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be 0 (any free port) to {MAX_PORT}, got {value}")
    return value


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
    parser.add_argument("--kalshi-port", type=port, default=0, help="Kalshi port (default: a free port)")
    parser.add_argument("--odds-port", type=port, default=0, help="Odds API port (default: a free port)")
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
    if args.key_dir is not None:
        _prepare_key_dir(args.key_dir)
    if args.env_file is not None:
        _check_writable(args.env_file)
    from engine.sim import SimConfig  # the simulator (and its web server) only for this command

    config = SimConfig(seed=args.seed, kalshi_port=args.kalshi_port, odds_port=args.odds_port, markets=args.markets)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(config, args.step_interval, args.key_dir, args.env_file))
    return 0


def _prepare_key_dir(key_dir: Path) -> None:
    try:
        key_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimStartError(f"--key-dir {key_dir} cannot be created: {exc.strerror}") from None
    if not os.access(key_dir, os.W_OK | os.X_OK):
        raise SimStartError(f"--key-dir {key_dir} is not writable")


def _check_writable(path: Path) -> None:
    if path.is_dir():
        raise SimStartError(f"--env-file {path} is a directory; name a file")
    if not path.parent.is_dir():
        raise SimStartError(f"--env-file {path}: directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise SimStartError(f"--env-file {path}: directory {path.parent} is not writable")
    if path.exists() and not _written_by_sim(path):
        raise SimStartError(
            f"--env-file {path} exists and was not written by arbtui sim; refusing to overwrite it"
            " (name a new file, or delete this one first)"
        )


def _written_by_sim(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return fh.readline().rstrip("\n") == ENV_MARKER
    except OSError:
        return False


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by the owner only (mode 0600), all at once."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
    except OSError as exc:
        raise SimStartError(f"--env-file {path} cannot be written: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise SimStartError(f"--env-file {path} cannot be written: {exc.strerror or exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


async def _serve(config: SimConfig, step_interval: float, key_dir: Path | None, env_file: Path | None) -> None:
    from engine.sim import start_simulator

    try:
        sim = await start_simulator(config, key_dir)
    except OSError as exc:  # a port in use, or the key file refused by the file system
        raise SimStartError(f"cannot start the simulator: {exc.strerror or exc}{_where(exc)}") from None
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # before the lines: a caller that read them may stop us
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        if step_interval > 0:
            sim.start_autostep(step_interval)
        lines = sim.env_lines()
        if env_file is not None:
            write_private(env_file, f"{ENV_MARKER}\n{lines}\n")
        print(lines, flush=True)
        print(
            f"# {len(sim.exchange.markets)} markets in {len(sim.board.games)} games; "
            f"websocket {sim.ws_url}; Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    finally:
        await sim.close()


def _where(exc: OSError) -> str:
    return f" ({exc.filename})" if exc.filename else ""
