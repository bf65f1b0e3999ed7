"""The engine as an operator runs it, for the launch tests: ``arbtui launch`` in a subprocess, its JSON log
read as it is written, waits that fail with the engine's own error when it dies, and a stop by signal.

Every launch test needs the same private home (a short path, because the control socket's must fit in 107
bytes), the same environment scrubbed of the machine's Kalshi and Odds API settings, and the same reading of
a log that may end in a half-written line; written once here so the tests differ only in what they check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

CLI = ("-m", "arbtui.cli")
"""``python -m arbtui.cli``: the command line exactly as installed."""
INHERITED = ("KALSHI_", "ODDS_API_", "TRADING_PROFILE", "PAPER_TRADING")
"""Settings a developer's machine may carry that would change what launch does."""


def private_home(monkeypatch: pytest.MonkeyPatch, prefix: str) -> Iterator[Path]:
    """A short private directory that this process and the engine both address (the same ``DATABASE_URL``
    and ``XDG_RUNTIME_DIR``), none of :data:`INHERITED`, no stray ``./.env``; removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / "rt").mkdir(mode=0o700)
    for name in list(os.environ):
        if name.startswith(INHERITED):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}/data/arbtui.db")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(path / "rt"))
    monkeypatch.chdir(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def paper_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without keys or a database, data and runtime under ``home``, PAPER."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "ODDS_API_", "DATABASE_URL"))}
    env.update(XDG_DATA_HOME=str(home / "data"), XDG_RUNTIME_DIR=str(home / "run"), PAPER_TRADING="true")
    env.update(extra)
    (home / "run").mkdir(mode=0o700, exist_ok=True)
    return env


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects logged so far (a line still being written is skipped)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(doc, dict):
            out.append(doc)
    return out


class Launched:
    """One engine subprocess (``python *argv``) with stdout to ``<name>.jsonl`` and stderr to ``<name>.err``
    under ``home``."""

    def __init__(self, home: Path, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> None:
        self.log = home / f"{name}.jsonl"
        self.err = home / f"{name}.err"
        self._out = self.log.open("wb")
        self._err = self.err.open("wb")
        self.proc = subprocess.Popen([sys.executable, *argv], cwd=home, env=dict(env or os.environ),
                                     stdout=self._out, stderr=self._err)  # fmt: skip

    def lines(self) -> list[dict[str, Any]]:
        return json_lines(self.log)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.lines() if d.get("kind") == kind]

    def reached(self, want: Mapping[str, int]) -> bool:
        """At least ``want[kind]`` lines of each kind have been logged."""
        counts = Counter(d.get("kind") for d in self.lines())
        return all(counts[kind] >= n for kind, n in want.items())

    def _ready(self, what: str, ready: Callable[[], bool]) -> bool:
        if ready():
            return True
        if self.proc.poll() is not None:
            err = self.err.read_text(encoding="utf-8", errors="replace")
            raise AssertionError(f"launch exited with {self.proc.returncode} waiting for {what}: {err[-2000:]}")
        return False

    def _timed_out(self, what: str, timeout_s: float) -> AssertionError:
        return AssertionError(f"no {what} within {timeout_s} s; last log lines: {self.lines()[-10:]}")

    def wait_until(self, what: str, ready: Callable[[], bool], timeout_s: float) -> None:
        """Poll ``ready`` until it holds; fails at once, with the engine's stderr, if the engine exits."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._ready(what, ready):
                return
            time.sleep(0.2)
        raise self._timed_out(what, timeout_s)

    async def until(self, what: str, ready: Callable[[], bool], timeout_s: float) -> None:
        """:meth:`wait_until` yielding to the event loop, for a test whose simulator runs in this process."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if self._ready(what, ready):
                return
            await asyncio.sleep(0.2)
        raise self._timed_out(what, timeout_s)

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def _finish(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._out.close()
        self._err.close()
        return self.proc.returncode, self.err.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 60.0) -> tuple[int, str]:
        """Send ``sig`` (SIGTERM, as systemd sends it, by default) and wait; the exit code and stderr. An
        engine that does not stop within ``timeout_s`` is killed."""
        self._signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=timeout_s)
        return self._finish()

    async def stopped(self, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 60.0) -> tuple[int, str]:
        """:meth:`stop` yielding to the event loop while the engine shuts down."""
        self._signal(sig)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.proc.poll() is None and loop.time() < deadline:
            await asyncio.sleep(0.1)
        return self._finish()
