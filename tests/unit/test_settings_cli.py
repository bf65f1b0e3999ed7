"""Settings that used to do the wrong thing silently, each driven through the CLI: a missing ``--env-file``,
``MAPPING_OVERRIDES_FILE`` ignored by ``map``, an overrides file with a misspelt key, ``PROFILE_BOOKS`` errors
that did not name the variable or accepted unknown books, and ``--profile`` dropping ``PROFILE_*``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from arbtui.cli import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "snapshot.json"
DET = "KXNFLGAME-26NOV26GBDET-DET"
NHL = "KXNHLGAME-26NOV27NYRBOS-NYR"
_PREFIXES = ("KALSHI_", "ODDS_", "TRADING_", "PAPER_", "MAX_", "MIN_", "PROFILE_", "MAPPING_", "DATABASE_", "REDIS_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def one_error_line(err: str, prog: str) -> str:
    """The single stderr line of a failed command (no traceback, nothing else)."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"arbtui {prog}: error: ")
    return lines[0]


def write_env(tmp_path: Path, **values: str) -> Path:
    path = tmp_path / "settings.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


# --- --env-file must exist -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["scan", "map"])
def test_missing_env_file_is_an_error_for_offline_commands(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, str(EXAMPLE), "--env-file", "sim.emv"]) == 1
    captured = capsys.readouterr()
    line = one_error_line(captured.err, command)
    assert "settings file sim.emv does not exist" in line
    assert captured.out == ""


def test_missing_env_file_stops_capture_before_any_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "snap.json"
    assert main(["capture", "--out", str(out), "--env-file", "sim.emv"]) == 1
    line = one_error_line(capsys.readouterr().err, "capture")
    assert "settings file sim.emv does not exist" in line
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_missing_env_file_fails_doctor_without_contacting_production(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--env-file", "sim.emv"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    settings_line = next(line for line in captured.out.splitlines() if "settings" in line)
    assert "FAIL" in settings_line and "settings file sim.emv does not exist" in settings_line
    assert "kalshi.com" not in captured.out  # the production default was never put together, let alone called
    assert not any(line.startswith("[  ok]") for line in captured.out.splitlines())


def test_unreadable_env_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "adir").mkdir()
    assert main(["scan", str(EXAMPLE), "--env-file", "adir"]) == 1
    assert "settings file adir is a directory" in one_error_line(capsys.readouterr().err, "scan")
    (tmp_path / "binary.env").write_bytes(b"\xff\xfe\x00TRADING_BANKROLL=5\n")
    assert main(["scan", str(EXAMPLE), "--env-file", "binary.env"]) == 1
    assert "binary.env is not UTF-8 text" in one_error_line(capsys.readouterr().err, "scan")


def test_missing_env_file_through_a_real_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "arbtui.cli", "scan", str(EXAMPLE), "--env-file", "typo.env"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert one_error_line(proc.stderr, "scan") == "arbtui scan: error: settings file typo.env does not exist"


def test_no_env_file_at_all_still_runs_on_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(EXAMPLE), "--json"]) == 0  # no --env-file, no ./.env: the environment alone
    assert json.loads(capsys.readouterr().out)["profile"] == "STANDARD"


def test_the_default_env_file_is_read_when_present(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text("TRADING_PROFILE=aggressive\n", encoding="utf-8")
    assert main(["scan", str(EXAMPLE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["profile"] == "AGGRESSIVE"


# --- MAPPING_OVERRIDES_FILE and the overrides file ----------------------------------------------------------


def test_map_and_scan_both_apply_mapping_overrides_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = tmp_path / "overrides.json"
    blocks.write_text(json.dumps({"blocks": [{"event_ticker": "KXNFLGAME-26NOV26GBDET", "reason": "QB news"}]}))
    env = write_env(tmp_path, MAPPING_OVERRIDES_FILE=str(blocks))

    assert main(["map", str(EXAMPLE), "--env-file", str(env)]) == 0
    text = capsys.readouterr().out
    assert f"UNMATCHED {DET}: blocked by operator override: QB news" in text
    assert f"{DET} -> " not in text

    assert main(["scan", str(EXAMPLE), "--json", "--env-file", str(env)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "QB news" in {u["ticker"]: u["reason"] for u in out["unmatched"]}[DET]
    assert not any(s["ticker"] == DET for s in out["signals"])


def test_map_without_overrides_maps_the_blocked_game(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", str(EXAMPLE)]) == 0
    assert f"{DET} -> " in capsys.readouterr().out  # the block above is what made the difference


@pytest.mark.parametrize("command", ["scan", "map"])
@pytest.mark.parametrize(
    ("doc", "named"),
    [
        ({"blockz": [{"ticker": DET}]}, "'blockz'"),
        ({"blocks": [{"tickr": DET, "reason": "x"}]}, "'tickr'"),
        (
            {"pairs": [{"ticker": DET, "odds_event_id": "e", "market_key": "h2h", "outcome": "D", "ponit": 1}]},
            "'ponit'",
        ),
        ({"blocks": [{"ticker": DET}, {"ticker": DET, "reason": "again"}]}, "already blocked"),
    ],
)
def test_overrides_with_a_misspelt_or_repeated_entry_is_refused(
    command: str, doc: dict[str, Any], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "overrides.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    env = write_env(tmp_path, MAPPING_OVERRIDES_FILE=str(path))
    assert main([command, str(EXAMPLE), "--env-file", str(env)]) == 1
    captured = capsys.readouterr()
    assert named in one_error_line(captured.err, command) and captured.out == ""


def test_missing_overrides_file_named_in_settings_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = write_env(tmp_path, MAPPING_OVERRIDES_FILE="nowhere.json")
    assert main(["map", str(EXAMPLE), "--env-file", str(env)]) == 1
    assert "overrides file nowhere.json does not exist" in one_error_line(capsys.readouterr().err, "map")


# --- PROFILE_BOOKS and --profile with PROFILE_* --------------------------------------------------------------


@pytest.mark.parametrize(
    ("books", "expected"),
    [
        ("draftkings,pinnacle", "PROFILE_BOOKS: names 2 books (draftkings, pinnacle) but profile STANDARD needs 3"),
        ("foo,bar", "PROFILE_BOOKS: unknown sportsbook foo, bar"),
        ("draftkings,fanduel,draftking", "PROFILE_BOOKS: unknown sportsbook draftking"),
        ("draftkings,fanduel,fanduel", "PROFILE_BOOKS: names fanduel more than once"),
        ("draftkings,,fanduel", "PROFILE_BOOKS: has an empty entry"),
    ],
)
def test_bad_profile_books_name_the_variable(
    books: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = write_env(tmp_path, PROFILE_BOOKS=books)
    assert main(["scan", str(EXAMPLE), "--env-file", str(env)]) == 1
    captured = capsys.readouterr()
    assert expected in one_error_line(captured.err, "scan") and captured.out == ""


def test_known_books_are_accepted_in_any_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = write_env(tmp_path, PROFILE_BOOKS="DraftKings, pinnacle ,fanduel")
    assert main(["scan", str(EXAMPLE), "--json", "--env-file", str(env)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["profile_overrides"] == {"PROFILE_BOOKS": "draftkings,pinnacle,fanduel"}


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["scan", str(EXAMPLE), "--json", *args]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_command_line_profile_is_the_base_and_profile_overrides_still_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = scan_json(capsys, "--profile", "aggressive")
    assert any(s["kind"] == "edge" and s["ticker"] == DET for s in plain["signals"])  # DET's edge is 0.0672

    env = write_env(tmp_path, TRADING_PROFILE="CONSERVATIVE", PROFILE_MIN_EDGE="0.068")
    out = scan_json(capsys, "--profile", "aggressive", "--env-file", str(env))
    assert (out["profile"], out["profile_source"]) == ("AGGRESSIVE", "--profile")
    assert out["profile_overrides"] == {"PROFILE_MIN_EDGE": "0.068"}
    edges = {s["ticker"] for s in out["signals"] if s["kind"] == "edge"}
    assert DET not in edges and NHL in edges  # DET 0.0672 < 0.068 < every NHL book's edge: the override applied

    assert main(["scan", str(EXAMPLE), "--profile", "aggressive", "--env-file", str(env)]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert "profile AGGRESSIVE (--profile) + PROFILE_MIN_EDGE=0.068" in header


def test_settings_profile_is_named_as_the_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = write_env(tmp_path, TRADING_PROFILE="aggressive")
    out = scan_json(capsys, "--env-file", str(env))
    assert (out["profile"], out["profile_source"], out["profile_overrides"]) == ("AGGRESSIVE", "TRADING_PROFILE", {})


def test_overrides_are_checked_against_the_command_line_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = write_env(tmp_path, PROFILE_BOOKS="draftkings,fanduel,betmgm")
    scan_json(capsys, "--env-file", str(env))  # STANDARD needs 3 books: fine
    assert main(["scan", str(EXAMPLE), "--profile", "conservative", "--env-file", str(env)]) == 1
    line = one_error_line(capsys.readouterr().err, "scan")
    assert "PROFILE_BOOKS: names 3 books (draftkings, fanduel, betmgm) but profile CONSERVATIVE needs 4" in line
