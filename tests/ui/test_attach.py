"""``arbtui attach`` end to end: a headless engine (``arbtui launch --no-ui --demo``) runs in a subprocess
with its own data directory; the dashboard is attached to it through the control socket exactly as the
command builds it, and driven with Pilot.

The operator's path: the attached screen shows the engine's live signals; ``h`` halts that engine (as
``arbtui status --json``, a third process, reports); ``q`` closes the viewer only: the engine keeps
running, still halted, its snapshot still moving, and stops cleanly on SIGTERM afterwards.
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
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from arbtui.app.widgets.signals import SignalsTable
from arbtui.cli import main
from arbtui.commands.attach import viewer
from engine.runtime.remote import RemoteEngine

pytestmark = pytest.mark.integration

WAIT_S = 60.0
"""Generous: the demo engine starts its simulator, discovers, maps and polls on a shared two-core box."""


class Headless:
    """``arbtui launch --no-ui --demo`` in a subprocess on its own data directory and runtime directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.data_dir = home / "data"
        (home / "rt").mkdir(mode=0o700)
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "ODDS_API_", "TRADING_PROFILE"))
        }
        self.env.update(DATABASE_URL=f"sqlite:///{self.data_dir}/arbtui.db", XDG_RUNTIME_DIR=str(home / "rt"))
        self.env.pop("PAPER_TRADING", None)
        self._out = (home / "engine.log").open("wb")
        self._err = (home / "engine.err").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "arbtui.cli", "launch", "--no-ui", "--demo", "--log-format", "json"],
            cwd=home,
            env=self.env,
            stdout=self._out,
            stderr=self._err,
        )

    def status(self) -> dict[str, Any]:
        """``arbtui status --json`` run as its own process, as an operator's other shell would."""
        doc, error = self._status()
        assert doc is not None, error
        return doc

    def live_signals(self) -> bool:
        """The engine answers and has live signals (before its socket is up, ``status`` fails: not yet)."""
        doc, _ = self._status()
        return doc is not None and doc["signals"]["live"] > 0

    def _status(self) -> tuple[dict[str, Any] | None, str]:
        done = subprocess.run(
            [sys.executable, "-m", "arbtui.cli", "status", "--json", "--data-dir", str(self.data_dir)],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            return None, done.stderr
        doc = json.loads(done.stdout)
        assert isinstance(doc, dict)
        return doc, ""

    def wait_until(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the engine exited ({self.proc.returncode}) waiting for {what}: {self.errors()}")
            if ready():
                return
            time.sleep(0.2)
        raise AssertionError(f"no {what} within {WAIT_S} s: {self.errors()}")

    def errors(self) -> str:
        return (self.home / "engine.err").read_text(encoding="utf-8", errors="replace")[-2000:]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            raise
        finally:
            self._out.close()
            self._err.close()


@pytest.fixture
def engine() -> Iterator[Headless]:
    home = Path(tempfile.mkdtemp(prefix="arbat"))  # short: the control socket's path must fit in 107 bytes
    launched = Headless(home)
    try:
        yield launched
    finally:
        launched.stop()
        shutil.rmtree(home, ignore_errors=True)


async def test_attach_shows_the_engine_halts_it_and_q_leaves_it_running(engine: Headless) -> None:
    await asyncio.to_thread(engine.wait_until, "live signals", engine.live_signals)

    remote = RemoteEngine(engine.data_dir)
    await remote.start()
    app = viewer(remote)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.query_one(SignalsTable)
            deadline = time.monotonic() + WAIT_S
            while table.row_count == 0 and time.monotonic() < deadline:
                await pilot.pause(0.1)
            assert table.row_count > 0, "the attached dashboard shows no signal"
            assert app.latest is not None and app.latest.mode == "PAPER" and app.latest.demo
            assert app.latest.breaker_state == "ACTIVE"

            await pilot.press("h")
            status = await asyncio.to_thread(engine.status)
            assert status["breaker"]["state"] == "HALTED"
            assert "dashboard" in status["breaker"]["reason"]
            pulls = app.pulls
            while (app.latest.breaker_state != "HALTED" or app.pulls < pulls + 3) and time.monotonic() < deadline:
                await pilot.pause(0.1)
            assert app.latest.breaker_state == "HALTED"  # the screen reads the engine it halted

            await pilot.press("q")
            await pilot.pause()
        assert app.return_code == 0
    finally:
        await remote.close()

    assert engine.proc.poll() is None, "q under attach must leave the engine running"
    after = await asyncio.to_thread(engine.status)
    assert after["breaker"]["state"] == "HALTED"
    later = after["ts"]
    await asyncio.to_thread(
        engine.wait_until, "a newer engine snapshot after the viewer closed", lambda: engine.status()["ts"] != later
    )

    # Attached again, the engine stops under the viewer: an error notification, the last picture kept.
    remote = RemoteEngine(engine.data_dir)
    await remote.start()
    app = viewer(remote)
    deadline = time.monotonic() + WAIT_S
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            while app.latest is None and time.monotonic() < deadline:
                await pilot.pause(0.1)
            assert app.latest is not None
            assert await asyncio.to_thread(engine.stop) == 0
            # A poll that lands while the engine is shutting down (its process still alive) is told the engine
            # "is not answering"; once the process has ended, the viewer says no engine is running.
            while (
                not any("no arbtui engine is running" in m for m in errors_shown(app)) and time.monotonic() < deadline
            ):
                await pilot.pause(0.1)
            assert any("no arbtui engine is running" in m for m in errors_shown(app)), errors_shown(app)
            assert app.latest is not None and app.latest.breaker_state == "HALTED"
            await pilot.press("q")
            await pilot.pause()
        assert app.return_code == 0
    finally:
        await remote.close()


def errors_shown(app: Any) -> list[str]:
    """The error notifications on screen (Textual keeps them in the app's notification list)."""
    return [str(n.message) for n in app._notifications if n.severity == "error"]


def test_attach_without_an_engine_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attach", "--data-dir", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"arbtui attach: error: no arbtui engine is running for {tmp_path / 'nothing'}"
