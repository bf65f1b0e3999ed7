"""The control commands as an operator runs them (``arbtui.cli.main``), against a real control server
serving a small real engine on a background loop: output, exit codes, confirmations and refusals."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from control_kit import StateEngine, served_in_thread

from arbtui.cli import main
from engine.runtime.control import claim_instance
from engine.runtime.control_api import STATUS_FIELDS

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def base(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="arbcli"))
    (path / "rt").mkdir(mode=0o700)
    monkeypatch.chdir(path)  # no stray ./.env is read
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(path / "rt"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}/data/arbtui.db")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def engine() -> StateEngine:
    return StateEngine()


@pytest.fixture
def running(base: Path, engine: StateEngine) -> Iterator[StateEngine]:
    lock = claim_instance(base / "data", {"XDG_RUNTIME_DIR": str(base / "rt")}, NOW)
    try:
        with served_in_thread(engine, lock.info.socket_path):
            yield engine
    finally:
        lock.release()


def one_error_line(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_status_json_is_one_object_with_every_promised_field(
    running: StateEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(STATUS_FIELDS) <= set(doc)
    assert doc["pnl"]["realised"] == "1.25"
    assert doc["feeds"]["odds_api"]["credits_left"] == 480


def test_status_human_summary(running: StateEngine, base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"data {base / 'data'}" in out
    assert "profile    STANDARD" in out
    assert "signals    3 live (ev 2, arb 1)" in out
    assert "pnl        realised 1.25, unrealised -0.40, fees 0.14, today 1.25" in out
    assert "daily_loss  12.50  100.00" in out
    assert "odds_api   connected  12.0 s  credits left 480, credits spent today 20" in out


def test_halt_then_profile_then_resume(running: StateEngine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["halt", "--reason", "news"]) == 0
    assert capsys.readouterr().out.strip() == "halted: breaker halted (news); orders open 3, unknown 0"
    assert main(["profile", "aggressive"]) == 0
    assert capsys.readouterr().out.strip() == "profile AGGRESSIVE set (used from the next evaluation)"
    assert main(["resume", "--yes"]) == 0
    assert capsys.readouterr().out.strip() == "resumed: breaker active; orders open 3, unknown 0"
    assert running.calls == ["halt:news", "profile:AGGRESSIVE", "resume"]


@pytest.mark.parametrize("name", ["kill", "resume"])
def test_without_a_terminal_kill_and_resume_need_yes(
    running: StateEngine, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert main([name]) == 1
    one_error_line(capsys.readouterr().err, f"arbtui {name}: error: refusing to {name}", "add --yes")
    assert running.calls == []


def test_on_a_terminal_kill_asks_and_a_no_sends_nothing(
    running: StateEngine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    questions: list[str] = []
    answers = iter(["n", "yes"])
    monkeypatch.setattr("arbtui.commands._control.stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda q: questions.append(q) or next(answers))
    assert main(["kill"]) == 1
    one_error_line(capsys.readouterr().err, "kill not confirmed; nothing was sent")
    assert running.calls == []
    assert main(["kill", "--reason", "bad feed"]) == 0
    assert capsys.readouterr().out.strip() == "killed: breaker halted (killed: bad feed); orders open 0, unknown 0"
    assert running.calls == ["kill:bad feed"]
    assert "cancel every resting order" in questions[0]


def test_unknown_profile_is_refused_with_the_list_before_sending(
    running: StateEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["profile", "YOLO"]) == 1
    one_error_line(capsys.readouterr().err, "unknown trading profile 'YOLO'", "CONSERVATIVE, STANDARD, AGGRESSIVE")
    assert running.calls == []


@pytest.mark.parametrize(
    "argv", [["status"], ["status", "--json"], ["halt"], ["kill", "--yes"], ["profile", "STANDARD"]]
)
def test_no_engine_is_one_line_and_exit_1(base: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 1
    one_error_line(capsys.readouterr().err, f"no arbtui engine is running for {base / 'data'}")


def test_data_dir_flag_addresses_another_store(
    running: StateEngine, base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--data-dir", str(base / "elsewhere")]) == 1
    one_error_line(capsys.readouterr().err, f"no arbtui engine is running for {base / 'elsewhere'}")
    assert main(["status", "--json", "--data-dir", str(base / "data")]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "PAPER"


def test_an_empty_data_dir_is_refused(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--data-dir", " "]) == 1
    one_error_line(capsys.readouterr().err, "--data-dir is empty")
