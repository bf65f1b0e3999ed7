"""Control from another shell, end to end: ``arbtui launch --no-ui --demo`` runs as a subprocess and this
test drives it with the operator's commands (``arbtui.cli.main`` in this process, a different process from
the engine, through the real control socket).

One run, in the order an operator would: signals and paper fills within 30 s; a second launch on the same
data directory is refused with the first's PID; ``status --json`` carries every promised field; ``halt``
stops new orders while signals keep coming; ``profile AGGRESSIVE`` shows in status and detection uses it
(signals below STANDARD's minimum edge appear); ``resume`` lets orders flow again; ``kill`` cancels and
halts; SIGTERM exits 0; the logged fills are in the store; a second start reconciles cleanly and still
reports the kill's halt.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from launch_kit import CLI, Launched, private_home

from arbtui.cli import main
from engine.config.profiles import PROFILES, ProfileName
from engine.runtime.control_api import STATUS_FIELDS
from engine.store import open_store

pytestmark = pytest.mark.integration

STANDARD_MIN_EDGE = PROFILES[ProfileName.STANDARD].min_edge
AGGRESSIVE_MIN_EDGE = PROFILES[ProfileName.AGGRESSIVE].min_edge
START_S = 30.0
WAIT_S = 45.0


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from private_home(monkeypatch, "arblc")


def launch_demo(home: Path, name: str) -> Launched:
    return Launched(home, name, [*CLI, "launch", "--no-ui", "--demo", "--log-format", "json"])


def signals_in(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in lines if str(d.get("message", "")).startswith("signal ")]


def edge_signals(lines: list[dict[str, Any]]) -> list[Decimal]:
    """The edges of +EV signals (arbitrage is judged by its margin, not by the profile's minimum edge)."""
    found = [d.get("signal", d) for d in signals_in(lines) if str(d["message"]).startswith("signal edge ")]
    return [Decimal(s["edge"]) for s in found]


def status(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["status", "--json"]) == 0, capsys.readouterr().err
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc, dict)
    return doc


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_operator_controls_a_running_demo_engine(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = launch_demo(home, "first")
    try:
        engine.wait_until(
            "signals and paper fills",
            lambda: any(d.get("kind") == "fill" for d in engine.lines()) and bool(signals_in(engine.lines())),
            START_S,
        )
        start = engine.lines()[0]
        assert start["kind"] == "start" and start["mode"] == "PAPER" and start["demo"] is True

        second = subprocess.run(
            [sys.executable, "-m", "arbtui.cli", "launch", "--no-ui", "--demo"],
            cwd=home,
            env=dict(os.environ),
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 1
        refusal = second.stderr.decode().strip().splitlines()
        assert len(refusal) == 1 and f"already running for {home / 'data'} (PID {engine.proc.pid})" in refusal[0]

        first = status(capsys)
        assert set(STATUS_FIELDS) <= set(first)
        assert first["mode"] == "PAPER" and first["profile"] == "STANDARD"
        assert first["breaker"]["state"].lower() == "active"
        assert first["orders"]["filled"] >= 1
        assert {"state", "age_s"} <= set(first["feeds"]["odds_api"])
        assert {"credits_left", "credits_spent_today"} <= set(first["feeds"]["odds_api"])
        assert {"p50", "p99"} <= set(first["loop_lag_ms"])
        assert all(e >= STANDARD_MIN_EDGE for e in edge_signals(engine.lines()))

        # halt: no new orders while signals keep coming
        assert run_cli(capsys, "halt", "--reason", "test halt").startswith("halted: breaker HALTED (test halt)")
        halted = status(capsys)
        assert halted["breaker"]["state"].lower() == "halted"
        sent_at_halt = halted["orders"]["sent"]
        seen = len(signals_in(engine.lines()))
        engine.wait_until("signals while halted", lambda: len(signals_in(engine.lines())) >= seen + 5, WAIT_S)
        assert status(capsys)["orders"]["sent"] == sent_at_halt

        # profile: status shows it and detection uses it (edges STANDARD would not report)
        mark = len(engine.lines())
        assert run_cli(capsys, "profile", "aggressive").strip().startswith("profile AGGRESSIVE set")
        engine.wait_until("AGGRESSIVE in status", lambda: status(capsys)["profile"] == "AGGRESSIVE", WAIT_S)
        engine.wait_until(
            "a signal only AGGRESSIVE reports",
            lambda: any(AGGRESSIVE_MIN_EDGE <= e < STANDARD_MIN_EDGE for e in edge_signals(engine.lines()[mark:])),
            WAIT_S,
        )

        # resume: orders flow again
        assert run_cli(capsys, "resume", "--yes").startswith("resumed: breaker ACTIVE")
        engine.wait_until("an order after resume", lambda: status(capsys)["orders"]["sent"] > sent_at_halt, WAIT_S)

        # kill: halted, nothing resting
        assert run_cli(capsys, "kill", "--yes", "--reason", "test kill").startswith("killed: breaker HALTED")
        killed = status(capsys)
        assert killed["breaker"]["state"].lower() == "halted"
        assert killed["orders"]["open"] == 0
    finally:
        code, err = engine.stop()
    assert code == 0, err[-2000:]
    lines = engine.lines()
    assert lines[-1]["kind"] == "stop" and "stopped cleanly" in lines[-1]["message"]
    assert main(["status"]) == 1
    assert f"no arbtui engine is running for {home / 'data'}" in capsys.readouterr().err

    logged = {d["fill_id"] for d in lines if d.get("kind") == "fill"}
    assert logged
    assert logged <= asyncio.run(stored_fill_ids(home / "data" / "arbtui.db"))

    again = launch_demo(home, "second")
    try:
        engine_up = lambda: any(d.get("kind") == "reconcile" for d in again.lines())  # noqa: E731
        again.wait_until("the reconciliation line", engine_up, START_S)
        reconcile = next(d for d in again.lines() if d.get("kind") == "reconcile")
        assert reconcile["ok"] is True, reconcile
        restarted = status(capsys)
        assert restarted["breaker"]["state"].lower() == "halted"  # the kill survives a restart
    finally:
        code, err = again.stop()
    assert code == 0, err[-2000:]


async def stored_fill_ids(path: Path) -> set[str]:
    store = await open_store(path)
    try:
        return {f.fill_id for f in await store.fills()}
    finally:
        await store.close()
