"""``arbtui scan`` end to end on the shipped example snapshot, and the CLI's shape."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arbtui.cli import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "snapshot.json"


@pytest.fixture(autouse=True)
def no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TRADING_PROFILE", "TRADING_BANKROLL", "MAX_POSITION_SIZE"):
        monkeypatch.delenv(name, raising=False)


def scan_json(capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    assert main(["scan", str(EXAMPLE), "--json", *extra]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_json_shape_and_decisions(capsys: pytest.CaptureFixture[str]) -> None:
    out = scan_json(capsys)
    assert set(out) >= {"as_of", "profile", "signals", "unmatched"}
    assert out["as_of"] == "2026-11-26T15:00:00Z" and out["profile"] == "STANDARD"
    kinds = {(s["kind"], s["ticker"], s["side"]) for s in out["signals"]}
    assert ("edge", "KXNFLGAME-26NOV26GBDET-DET", "yes") in kinds
    assert ("arb", "KXNHLGAME-26NOV27NYRBOS-NYR", "no") in kinds
    # DET YES at 0.53 plus a Green Bay hedge would lose if the game ended tied: not an arb.
    assert ("arb", "KXNFLGAME-26NOV26GBDET-DET", "yes") not in kinds
    assert ("edge", "KXNHLGAME-26NOV27NYRBOS-NYR", "no") in kinds
    assert ("kalshi_arb", "KXNFLGAME-26NOV26CINBAL-CIN", "yes") in kinds
    for s in out["signals"]:
        for key in (
            "kind",
            "ticker",
            "side",
            "fair",
            "books",
            "books_agree",
            "ask",
            "edge",
            "count",
            "limit_price",
            "cost",
            "fees",
            "ev",
        ):
            assert key in s
        for key in ("ask", "edge", "limit_price", "cost", "fees", "ev"):
            assert isinstance(s[key], str)
            Decimal(s[key])  # money and prices print as decimal strings
        assert s["count"] >= 1 if s["kept"] else s["count"] == 0 and s["alone"]["count"] >= 1
        if s["kind"] == "arb":
            assert Decimal(s["margin"]) > 0 and s["hedges"]
        if s["kind"] == "kalshi_arb":
            assert len(s["tickers"]) == 2
    evs = [Decimal(s["ev"]) for s in out["signals"] if s["kept"]]
    assert evs == sorted(evs, reverse=True)
    unmatched = {u["ticker"]: u["reason"] for u in out["unmatched"]}
    assert "KXATPMATCH-26NOV27SINALC-SIN" in unmatched
    skipped = {s["ticker"]: s["reason"] for s in out["skipped"]}
    assert "started" in skipped["KXNBAGAME-26NOV25MIAPHI-MIA"]
    assert "stale" in skipped["KXNBAGAME-26NOV27LALBOS-LAL"]
    assert any("KXNFLGAME-26NOV30LVLAC-LV" in e and "yes_ask_dollars" in e for e in out["errors"])
    nba_started = [s for s in out["signals"] if s["ticker"].startswith("KXNBAGAME-26NOV25")]
    assert nba_started == []


def test_profile_and_bankroll_flags(capsys: pytest.CaptureFixture[str]) -> None:
    conservative = scan_json(capsys, "--profile", "conservative")
    assert conservative["profile"] == "CONSERVATIVE"
    # CONSERVATIVE needs all four books fresh: the NHL game has a stale book, so no edge there.
    assert not any(s["kind"] == "edge" and s["ticker"].startswith("KXNHLGAME") for s in conservative["signals"])
    small = scan_json(capsys, "--bankroll", "50")
    (det,) = [s for s in small["signals"] if s["kind"] == "edge" and s["ticker"] == "KXNFLGAME-26NOV26GBDET-DET"]
    assert det["count"] < 43  # Kelly on $50 binds before the book depth does


def test_human_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "KXNFLGAME-26NOV26GBDET-DET" in out and "hedge for arb" in out and "unmatched (" in out


def test_bad_arguments(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["scan", str(tmp_path / "missing.json")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["scan", str(EXAMPLE), "--profile", "yolo"]) == 1
    assert "unknown trading profile" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["scan", str(EXAMPLE), "--bankroll", "-1"])


def test_help_lists_subcommands() -> None:
    proc = subprocess.run([sys.executable, "-m", "arbtui.cli", "--help"], capture_output=True, text=True, check=True)
    for name in ("scan", "bench", "map", "sim", "doctor", "capture"):
        assert name in proc.stdout


def test_overrides_block_a_market(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "overrides.json"
    path.write_text(
        json.dumps({"blocks": [{"ticker": "KXNHLGAME-26NOV27NYRBOS-NYR", "reason": "operator: injury news"}]})
    )
    out = scan_json(capsys, "--overrides", str(path))
    assert not any(s["ticker"] == "KXNHLGAME-26NOV27NYRBOS-NYR" for s in out["signals"])
    reasons = {u["ticker"]: u["reason"] for u in out["unmatched"]}
    assert "injury news" in reasons["KXNHLGAME-26NOV27NYRBOS-NYR"]


def test_bad_overrides_file_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "overrides.json"
    path.write_text("{oops")
    assert main(["scan", str(EXAMPLE), "--overrides", str(path)]) == 1
    assert "overrides file" in capsys.readouterr().err
