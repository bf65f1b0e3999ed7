"""``arbtui sim`` as an operator runs it: prints the env lines, serves, stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration


def _wait_for(path: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= 5:
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} not written within {timeout}s")


def test_arbtui_sim_prints_env_serves_and_stops(tmp_path: Path) -> None:
    env_file = tmp_path / "sim.env"
    keys = tmp_path / "keys"
    args = ["sim", "--seed", "4", "--markets", "6", "--step-interval", "0.05"]
    args += ["--env-file", str(env_file), "--key-dir", str(keys)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "arbtui.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _wait_for(env_file, 20.0).splitlines()
        assert lines[0].startswith("# written by arbtui sim")
        env = dict(line.split("=", 1) for line in lines[1:])
        assert set(env) == {
            "KALSHI_BASE_URL",
            "KALSHI_KEY_ID",
            "KALSHI_PRIVATE_KEY_PATH",
            "ODDS_API_BASE_URL",
            "ODDS_API_KEY",
        }
        assert env["KALSHI_BASE_URL"].startswith("http://127.0.0.1:")
        assert env["KALSHI_BASE_URL"].endswith("/trade-api/v2")
        key = Path(env["KALSHI_PRIVATE_KEY_PATH"])
        assert key.parent == keys and stat.S_IMODE(key.stat().st_mode) == 0o600
        markets = httpx.get(env["KALSHI_BASE_URL"] + "/markets", timeout=5).json()["markets"]
        assert len(markets) == 6
        odds = httpx.get(env["ODDS_API_BASE_URL"] + "/v4/sports", params={"apiKey": env["ODDS_API_KEY"]}, timeout=5)
        assert odds.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out.splitlines()[0].startswith("KALSHI_BASE_URL=")
    assert "Traceback" not in err
