"""``arbtui launch``: run the engine continuously, under the dashboard or (``--no-ui``) without a screen.

With no Kalshi key configured (or with ``--demo``) the project's simulator starts in this process on free
loopback ports and the engine trades it in PAPER mode, so a new install shows signals, paper fills and the
breaker within seconds. Real endpoints need the keys; LIVE also needs ``PAPER_TRADING=false``, and the
first line says LIVE in capitals. One line per event worth knowing (signal, order, fill, breaker or feed
change), human or ``--log-format json``. SIGINT/SIGTERM stop cleanly: no new orders, the order in flight
resolved or left for the next start's recovery, the store flushed, exit 0.

``--replay FILE`` runs a ``--record``-ed session through the same engine (recorded instants, a fresh
temporary store) and prints the same event lines, so two runs can be compared with ``diff``.

This module must not import Textual (a test runs it in a subprocess and checks): headless is the engine
alone, not the dashboard started invisibly. Without ``--no-ui`` the dashboard (``arbtui.app``, imported only
then) runs over the same engine; its event and log lines go to ``launch.log`` in the data directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "launch",
        help="run the engine continuously (--no-ui: headless)",
        description="Discover, map, subscribe, poll, detect and trade continuously. Without a Kalshi key (or "
        "with --demo) an embedded simulator is used in PAPER mode. Stop with Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--no-ui", action="store_true", help="run headless: log lines only, no dashboard")
    parser.add_argument("--demo", action="store_true", help="trade an embedded simulator in PAPER mode")
    parser.add_argument("--log-format", choices=("human", "json"), default="human", help="event line format")
    parser.add_argument("--record", type=Path, metavar="FILE", help="record every input to FILE for --replay")
    parser.add_argument("--replay", type=Path, metavar="FILE", help="run a recorded session instead of feeds")
    parser.add_argument("--realtime", action="store_true", help="with --replay: keep the recorded pace")
    parser.add_argument("--env-file", help="settings file to read; must exist (default: ./.env if present)")
    parser.add_argument("--seed", type=int, default=1, help="with --demo: the simulator's seed (default 1)")
    parser.add_argument(
        "--markets", type=int, default=48, help="with --demo: Kalshi markets the simulator lists (default 48)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from arbtui.commands._launch_engine import run_launch

    return run_launch(args)
