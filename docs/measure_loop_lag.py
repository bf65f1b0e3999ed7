"""Measure the engine's event-loop lag on the demo, headless and with the dashboard open (README figures).

Each run starts on a fresh data directory with no keys: ``headless`` is ``arbtui launch --no-ui --demo`` (the
demo's simulator runs in the same process on its own thread and event loop, sharing only the GIL);
``dashboard`` is ``arbtui launch --demo`` in a real terminal (tmux, 160x50), the app sharing the engine's
process and event loop; ``attached`` is the headless engine with ``arbtui attach`` open in tmux (a second
process reading it over the control socket). After the board is subscribed and a warm-up, the lag the
engine itself reports (``arbtui status --json``: ``loop_lag_ms``, a timer every 50 ms over the last
minute) is read once a measurement window has passed. Run from the repository root:

    .venv/bin/python docs/measure_loop_lag.py --markets 2000 headless dashboard attached
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ARBTUI = [sys.executable, "-m", "arbtui.cli"]


def status(env: dict[str, str], data_dir: Path) -> dict[str, Any] | None:
    done = subprocess.run([*ARBTUI, "status", "--json", "--data-dir", str(data_dir)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    return json.loads(done.stdout) if done.returncode == 0 else None


def measure(mode: str, markets: int, warmup_s: float, window_s: float) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="arblag"))
    (home / "rt").mkdir(mode=0o700)
    data_dir = home / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "ODDS_API_", "TRADING_PROFILE"))}
    env.update(DATABASE_URL=f"sqlite:///{data_dir}/arbtui.db", XDG_RUNTIME_DIR=str(home / "rt"), TERM="xterm-256color")
    tmux = ["tmux", "-L", f"arblag-{os.getpid()}", "-f", os.devnull]
    engine: subprocess.Popen[bytes] | None = None
    settings = [f"{k}={v}" for k, v in env.items()]
    launch = [*ARBTUI, "launch", "--demo", "--markets", str(markets)]
    try:
        if mode == "dashboard":
            subprocess.run([*tmux, "new-session", "-d", "-x", "160", "-y", "50", "env", "-i", *settings, *launch],
                           check=True)  # fmt: skip
        else:
            engine = subprocess.Popen([*launch, "--no-ui"], cwd=home, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 600
        while (doc := status(env, data_dir)) is None or doc["markets"]["subscribed"] < markets:
            if time.monotonic() > deadline:
                raise SystemExit(f"{mode}: the board was not subscribed within 600 s: {doc}")
            time.sleep(2)
        subscribed_after = time.monotonic() - (deadline - 600)
        if mode == "attached":
            subprocess.run([*tmux, "new-session", "-d", "-x", "160", "-y", "50", "env", "-i", *settings, *ARBTUI,
                            "attach", "--data-dir", str(data_dir)], check=True)  # fmt: skip
        time.sleep(warmup_s + window_s)
        doc = status(env, data_dir)
        assert doc is not None, f"{mode}: the engine stopped answering"
        return {"mode": mode, "markets": markets, "subscribed_after_s": round(subscribed_after, 1),
                "loop_lag_ms": doc["loop_lag_ms"], "signals": doc["signals"]["live"],
                "load_average": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
        if engine is not None:
            engine.send_signal(signal.SIGTERM)
            engine.wait(timeout=120)
        time.sleep(2)
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modes", nargs="+", choices=("headless", "dashboard", "attached"))
    parser.add_argument("--markets", type=int, default=2000)
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds after the board is subscribed")
    parser.add_argument("--window", type=float, default=60.0, help="seconds the lag figure covers")
    args = parser.parse_args()
    for mode in args.modes:
        print(json.dumps(measure(mode, args.markets, args.warmup, args.window)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
