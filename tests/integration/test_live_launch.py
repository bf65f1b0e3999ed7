"""LIVE end to end: ``arbtui launch --no-ui`` as a subprocess, pointed at a simulator in this process through
an env file with its keys and ``PAPER_TRADING=false``. It trades real (simulated) money: its orders stand at
the simulator and their fills are the simulator's; SIGTERM exits 0; a second start reconciles cleanly with
the exchange. And the refusals: ``PAPER_TRADING=false`` without a key is one line naming what is missing,
never a quiet paper demo.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from arbtui.cli import main
from engine.execution.model import Mode
from engine.execution.recovery import positions_from
from engine.store import open_store

pytestmark = pytest.mark.integration

WAIT_S = 60.0


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short private directory for the store and the control socket; no Kalshi or Odds API settings
    inherited from the machine, no stray ./.env."""
    path = Path(tempfile.mkdtemp(prefix="arbll"))
    (path / "rt").mkdir(mode=0o700)
    for name in list(os.environ):
        if name.startswith(("KALSHI_", "ODDS_API_", "TRADING_PROFILE", "PAPER_TRADING")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}/data/arbtui.db")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(path / "rt"))
    monkeypatch.chdir(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Engine:
    """One ``arbtui launch --no-ui`` subprocess and its JSON log lines. Every wait yields to the event loop:
    the simulator it trades runs in this process."""

    def __init__(self, home: Path, env_file: Path, name: str) -> None:
        self.log = home / f"{name}.jsonl"
        self.err = home / f"{name}.err"
        self._out = self.log.open("wb")
        self._err = self.err.open("wb")
        argv = ["launch", "--no-ui", "--env-file", str(env_file), "--log-format", "json"]
        self.proc = subprocess.Popen([sys.executable, "-m", "arbtui.cli", *argv], cwd=home, env=dict(os.environ),
                                     stdout=self._out, stderr=self._err)  # fmt: skip

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                continue  # being written
            if isinstance(doc, dict):
                out.append(doc)
        return out

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.lines() if d.get("kind") == kind]

    async def wait_until(self, what: str, ready: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if ready():
                return
            if self.proc.poll() is not None:
                err = self.err.read_text(encoding="utf-8", errors="replace")
                raise AssertionError(f"launch exited with {self.proc.returncode} waiting for {what}: {err[-2000:]}")
            await asyncio.sleep(0.2)
        raise AssertionError(f"no {what} within {timeout_s} s; last log lines: {self.lines()[-10:]}")

    async def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while self.proc.poll() is None and loop.time() < deadline:
            await asyncio.sleep(0.1)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._out.close()
        self._err.close()
        return self.proc.returncode, self.err.read_text(encoding="utf-8", errors="replace")


def _filled_orders(engine: Engine) -> list[dict[str, Any]]:
    return [d for d in engine.of_kind("order") if d.get("mode") == "live" and int(d.get("filled", 0)) > 0]


async def test_live_launch_trades_the_simulator_and_restarts_reconciled(wall_sim: Any, home: Path) -> None:
    sim = wall_sim
    sim.start_autostep(1.0)
    env_file = home / "live.env"
    env_file.write_text(f"{sim.env_lines()}\nPAPER_TRADING=false\n", encoding="utf-8")

    first = Engine(home, env_file, "first")
    try:
        await first.wait_until("a start line", lambda: bool(first.of_kind("start")))
        start = first.of_kind("start")[0]
        assert start["mode"] == "LIVE" and "LIVE trading REAL MONEY" in start["message"], start
        await first.wait_until("a live order that filled", lambda: bool(_filled_orders(first)))
    finally:
        code, err = await first.stop()
    assert code == 0, err[-2000:]

    logged_orders = [d for d in first.of_kind("order") if d.get("mode") == "live"]
    for order in logged_orders:  # every order the engine said it sent stands at the exchange, once
        assert len(sim.exchange.orders_with_client_id(order["client_order_id"])) == 1, order
    exchange_fill_ids = {f.fill_id for f in sim.exchange.fills}
    logged_fills = [d for d in first.of_kind("fill") if d.get("mode") == "live"]
    assert logged_fills and {d["fill_id"] for d in logged_fills} <= exchange_fill_ids

    second = Engine(home, env_file, "second")
    try:
        await second.wait_until("the restart's reconciliation", lambda: bool(second.of_kind("reconcile")))
        reconciled = second.of_kind("reconcile")[0]
        assert reconciled["ok"] is True, reconciled
        assert second.of_kind("start")[0]["mode"] == "LIVE"
    finally:
        code, err = await second.stop()
    assert code == 0, err[-2000:]

    store = await open_store(home / "data" / "arbtui.db")
    try:
        orders = await store.orders()
        fills = [f for f in await store.fills() if f.mode is Mode.LIVE]
        settled = [s.ticker for s in await store.settlements()]
    finally:
        await store.close()
    assert orders and all(r.intent.mode is Mode.LIVE for r in orders)
    for record in orders:  # no client_order_id was ever placed twice
        assert len(sim.exchange.orders_with_client_id(record.client_order_id)) <= 1
    ours = {f.fill_id for f in fills}
    theirs = {f.fill_id for f in sim.exchange.fills}
    assert ours == theirs  # every fill at the exchange is recorded, and nothing else
    held = {t: p.position for t, p in sim.exchange.positions.items() if p.position != 0}
    assert {t: int(v) for t, v in held.items()} == positions_from(fills, settled)


@pytest.mark.parametrize(
    ("lines", "missing"),
    [
        ("PAPER_TRADING=false\n", "KALSHI_KEY_ID and KALSHI_PRIVATE_KEY_PATH not set"),
        ("PAPER_TRADING=false\nKALSHI_KEY_ID=abc\n", "KALSHI_PRIVATE_KEY_PATH not set"),
        ("PAPER_TRADING=false\nKALSHI_PRIVATE_KEY_PATH=/nonexistent/key.pem\n", "KALSHI_KEY_ID not set"),
    ],
)
def test_live_without_a_key_is_refused_in_one_line(
    home: Path, capsys: pytest.CaptureFixture[str], lines: str, missing: str
) -> None:
    env_file = home / "refused.env"
    env_file.write_text(lines, encoding="utf-8")
    code = main(["launch", "--no-ui", "--env-file", str(env_file)])
    captured = capsys.readouterr()
    assert code == 1
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and missing in err[0] and "live trading refused" in err[0], captured.err
    assert "Traceback" not in captured.err
    assert not (home / "data" / "arbtui.db").exists()  # nothing started, nothing written
