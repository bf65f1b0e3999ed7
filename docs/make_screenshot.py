"""Regenerate ``docs/dashboard.svg``, the README's screenshot: the dashboard on the demo engine, 160x50.

The demo engine runs exactly as ``arbtui launch --no-ui --demo`` does, in a subprocess on a throwaway data
directory; the dashboard (the same app ``arbtui launch`` opens) reads it through the control socket, and
Textual saves the screen as SVG once signals, fills and positions show. Run from the repository root:

    .venv/bin/python docs/make_screenshot.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from arbtui.app.app import build_app
from engine.errors import ArbError
from engine.runtime.remote import RemoteEngine

OUT = Path(__file__).resolve().parent / "dashboard.svg"
SETTLE_S = 25.0
"""Long enough for paper fills, positions and the edge sparklines to fill in."""


async def shoot(data_dir: Path) -> None:
    remote = RemoteEngine(data_dir)
    deadline = time.monotonic() + 60
    while True:
        try:
            await remote.start()
            break
        except ArbError:  # the lock is written before the socket listens
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
    app = build_app(remote, owns_engine=False)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause(SETTLE_S)
            # the cursor follows the signal it was on; show the best live one (live signals sort first)
            app.query_one("#signals").move_cursor(row=0, animate=False)
            await pilot.pause(0.3)
            await app.detail_settled()
            await pilot.pause(0.2)
            app.save_screenshot(OUT.name, path=str(OUT.parent))
            await pilot.press("q")
    finally:
        await remote.close()


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="arbshot"))
    (home / "rt").mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "ODDS_API_", "TRADING_PROFILE"))}
    env.update(DATABASE_URL=f"sqlite:///{home}/data/arbtui.db", XDG_RUNTIME_DIR=str(home / "rt"))
    engine = subprocess.Popen(
        [sys.executable, "-m", "arbtui.cli", "launch", "--no-ui", "--demo"],
        cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        asyncio.run(shoot(home / "data"))
    finally:
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=60)
        shutil.rmtree(home, ignore_errors=True)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
