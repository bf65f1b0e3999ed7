"""The real-terminal check: ``arbtui launch`` in a real terminal (tmux, 160x50) on a fresh install (no
settings, no keys, an empty data directory) shows PAPER and live signals within 20 s, and ``q`` returns
to the shell with exit code 0.

Pilot drives the app inside pytest; this drives the installed command through a pseudo-terminal the way
an operator's shell does, so the terminal detection, the alternate screen, the engine and its embedded
simulator in one process, and the clean stop on ``q`` are all the real ones. Skipped, with the reason,
where tmux is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux); it is the real terminal"),
]

SIGNALS_WITHIN_S = 20.0
QUIT_WITHIN_S = 60.0
PROMPT = "ARBTUI-TEST$ "
SIGNAL_ROW = re.compile(r"^│ (edge|arb|kalshi_arb) +[A-Z]+ ", re.MULTILINE)
SIGNAL_COUNT = re.compile(r"Live signals \((\d+)")


class Terminal:
    """A tmux server of our own (its own socket name) with one 160x50 window running a plain bash."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        assert TMUX is not None
        self.tmux = [TMUX, "-L", f"arbtui-test-{os.getpid()}", "-f", os.devnull]
        settings = [f"{k}={v}" for k, v in env.items()]
        self.run("new-session", "-d", "-s", "arb", "-x", "160", "-y", "50", "-c", str(home),
                 "env", "-i", *settings, "bash", "--norc", "--noprofile")  # fmt: skip
        self.run("set-option", "-t", "arb", "remain-on-exit", "on")
        self.type(f"PS1='{PROMPT}'")

    def run(self, *args: str) -> str:
        done = subprocess.run([*self.tmux, *args], capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 0, f"tmux {' '.join(args)}: {done.stderr}"
        return done.stdout

    def type(self, line: str) -> None:
        self.run("send-keys", "-t", "arb", "-l", line)
        self.run("send-keys", "-t", "arb", "Enter")

    def press(self, key: str) -> None:
        self.run("send-keys", "-t", "arb", key)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "arb")

    def wait_for(self, what: str, seen: Callable[[str], bool], within_s: float) -> float:
        """Seconds until ``seen(screen)``; fails with the screen as it was if that takes over ``within_s``."""
        start = time.monotonic()
        while True:
            screen = self.screen()
            if seen(screen):
                return time.monotonic() - start
            if time.monotonic() - start > within_s:
                raise AssertionError(f"no {what} within {within_s:g} s; the terminal showed:\n{screen}")
            time.sleep(0.25)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=30, check=False)


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="arbtm"))  # short: the control socket's path must fit in 107 bytes
    (path / "rt").mkdir(mode=0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def fresh_environment(home: Path) -> dict[str, str]:
    """A new operator's shell: no Kalshi or Odds API settings, an empty data directory, a real TERM."""
    return {
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "DATABASE_URL": f"sqlite:///{home}/data/arbtui.db",
        "XDG_RUNTIME_DIR": str(home / "rt"),
        "XDG_DATA_HOME": str(home / "share"),
        "KALSHI_KEY_ID": "",
    }


def test_launch_in_a_real_terminal_shows_paper_and_signals_then_q_exits_0(home: Path) -> None:
    terminal = Terminal(home, fresh_environment(home))
    try:
        terminal.wait_for("shell prompt", lambda s: PROMPT in s, QUIT_WITHIN_S)
        terminal.type("arbtui launch")

        def paper_and_signals(screen: str) -> bool:
            count = SIGNAL_COUNT.search(screen)
            return (
                "PAPER" in screen and count is not None and int(count.group(1)) > 0 and bool(SIGNAL_ROW.search(screen))
            )

        took = terminal.wait_for("PAPER and live signals", paper_and_signals, SIGNALS_WITHIN_S)
        assert took <= SIGNALS_WITHIN_S

        terminal.press("q")
        terminal.wait_for("the shell back after q", lambda s: s.rstrip().endswith(PROMPT.rstrip()), QUIT_WITHIN_S)
        terminal.type('echo "exit code $?"')
        terminal.wait_for("the exit code", lambda s: "exit code " in s.replace(PROMPT + 'echo "exit code $?"', ""), 10)
        screen = terminal.screen()
        assert "exit code 0" in screen, screen
        assert "Traceback" not in screen
    finally:
        terminal.close()
    log = (home / "data" / "launch.log").read_text(encoding="utf-8")
    assert "stopped cleanly" in log
