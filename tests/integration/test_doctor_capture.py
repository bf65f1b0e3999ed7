"""``arbtui doctor`` and ``arbtui capture`` pointed at the simulator through an env file, as an operator would."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from arbtui.commands import capture, doctor
from engine.markets.snapshot import load_snapshot

pytestmark = pytest.mark.integration
SETTINGS_VARS = (
    "KALSHI_BASE_URL", "KALSHI_KEY_ID", "KALSHI_PRIVATE_KEY_PATH", "KALSHI_TIER", "ODDS_API_KEY",
    "ODDS_API_BASE_URL", "ODDS_API_DAILY_CREDITS", "PROFILE_BOOKS", "TRADING_PROFILE",
)  # fmt: skip


@pytest.fixture
def sim(wall_sim: Any) -> Any:
    """doctor and capture sign with the machine's clock, as in production: the simulator runs on it too."""
    return wall_sim


@pytest.fixture
def env_file(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in SETTINGS_VARS:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "sim.env"
    path.write_text(sim.env_lines() + "\n")
    return path


async def test_doctor_passes_against_the_simulator(env_file: Path) -> None:
    checks = await doctor.run_checks(str(env_file), timeout_s=5)
    assert [c.name for c in checks] == [
        "settings", "kalshi key file", "kalshi auth", "exchange status", "clock skew", "odds api",
    ]  # fmt: skip
    assert all(c.ok for c in checks), [c.line() for c in checks]


async def test_doctor_fails_on_a_public_key_file_and_a_wrong_key_id(sim: Any, env_file: Path, tmp_path: Path) -> None:
    os.chmod(sim.private_key_path, 0o644)
    try:
        checks = {c.name: c for c in await doctor.run_checks(str(env_file), timeout_s=5)}
    finally:
        os.chmod(sim.private_key_path, 0o600)
    assert checks["kalshi key file"].ok is False and "chmod 600" in checks["kalshi key file"].detail
    assert checks["kalshi auth"].ok is None
    wrong = tmp_path / "wrong.env"
    wrong.write_text(env_file.read_text().replace(f"KALSHI_KEY_ID={sim.key_id}", "KALSHI_KEY_ID=someone-else"))
    checks = {c.name: c for c in await doctor.run_checks(str(wrong), timeout_s=5)}
    assert checks["kalshi auth"].ok is False and "401" in checks["kalshi auth"].detail
    assert sim.odds_api_key not in "".join(c.line() for c in checks.values())


async def test_capture_writes_a_snapshot_scan_can_read(sim: Any, env_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    args = argparse.Namespace(out=out, leagues=None, odds_markets=None, no_odds=False, env_file=str(env_file))
    assert await asyncio.to_thread(capture.run, args) == 0
    snap = load_snapshot(out)
    assert snap.errors == ()
    assert sorted(m.ticker for m in snap.markets) == sorted(sim.board.tickers)
    assert set(snap.orderbooks) == set(sim.board.tickers)
    assert {m.series_ticker for m in snap.markets} <= set(snap.series)
    assert {e.id for e in snap.odds} == {g.odds_id for g in sim.board.games}
    sports = {g.sport_key for g in sim.board.games}
    assert sim.odds.credits_used == len(sports)  # one h2h call per sport, every book in it
    raw = json.loads(out.read_text())
    assert set(raw) == {"as_of", "kalshi", "odds"} and set(raw["kalshi"]) == {"markets", "orderbooks", "series"}


async def test_capture_one_league_without_odds_spends_nothing(sim: Any, env_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "nba.json"
    args = argparse.Namespace(out=out, leagues=["nba"], odds_markets=None, no_odds=True, env_file=str(env_file))
    assert await asyncio.to_thread(capture.run, args) == 0
    snap = load_snapshot(out)
    nba = sorted(t for t in sim.board.tickers if t.startswith("KXNBAGAME-"))
    assert nba and sorted(m.ticker for m in snap.markets) == nba
    assert snap.odds == () and sim.odds.credits_used == 0
