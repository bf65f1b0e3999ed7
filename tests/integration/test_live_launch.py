"""LIVE end to end: ``arbtui launch --no-ui`` as a subprocess, pointed at a simulator in this process through
an env file with its keys and ``PAPER_TRADING=false``. It trades real (simulated) money: its orders stand at
the simulator and their fills are the simulator's; SIGTERM exits 0; a second start reconciles cleanly with
the exchange. And the refusals: ``PAPER_TRADING=false`` without a key is one line naming what is missing,
never a quiet paper demo.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from launch_kit import CLI, Launched, private_home

from arbtui.cli import main
from engine.execution.model import Mode
from engine.execution.recovery import positions_from
from engine.store import open_store

pytestmark = pytest.mark.integration

WAIT_S = 60.0


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from private_home(monkeypatch, "arbll")


def launch_live(home: Path, env_file: Path, name: str) -> Launched:
    """``arbtui launch --no-ui`` on ``env_file``'s settings. Its waits must yield to the event loop: the
    simulator it trades runs in this process."""
    return Launched(home, name, [*CLI, "launch", "--no-ui", "--env-file", str(env_file), "--log-format", "json"])


def _filled_orders(engine: Launched) -> list[dict[str, Any]]:
    return [d for d in engine.of_kind("order") if d.get("mode") == "live" and int(d.get("filled", 0)) > 0]


async def test_live_launch_trades_the_simulator_and_restarts_reconciled(wall_sim: Any, home: Path) -> None:
    sim = wall_sim
    sim.start_autostep(1.0)
    env_file = home / "live.env"
    env_file.write_text(f"{sim.env_lines()}\nPAPER_TRADING=false\n", encoding="utf-8")

    first = launch_live(home, env_file, "first")
    try:
        await first.until("a start line", lambda: bool(first.of_kind("start")), WAIT_S)
        start = first.of_kind("start")[0]
        assert start["mode"] == "LIVE" and "LIVE trading REAL MONEY" in start["message"], start
        await first.until("a live order that filled", lambda: bool(_filled_orders(first)), WAIT_S)
    finally:
        code, err = await first.stopped()
    assert code == 0, err[-2000:]

    logged_orders = [d for d in first.of_kind("order") if d.get("mode") == "live"]
    for order in logged_orders:  # every order the engine said it sent stands at the exchange, once
        assert len(sim.exchange.orders_with_client_id(order["client_order_id"])) == 1, order
    exchange_fill_ids = {f.fill_id for f in sim.exchange.fills}
    logged_fills = [d for d in first.of_kind("fill") if d.get("mode") == "live"]
    assert logged_fills and {d["fill_id"] for d in logged_fills} <= exchange_fill_ids

    second = launch_live(home, env_file, "second")
    try:
        await second.until("the restart's reconciliation", lambda: bool(second.of_kind("reconcile")), WAIT_S)
        reconciled = second.of_kind("reconcile")[0]
        assert reconciled["ok"] is True, reconciled
        assert second.of_kind("start")[0]["mode"] == "LIVE"
    finally:
        code, err = await second.stopped()
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
