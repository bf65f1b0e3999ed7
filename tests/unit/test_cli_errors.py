"""No command ends in a traceback: bad arguments and hostile inputs give one line, a non-zero exit, and lose
nothing. Cases that need no server; the ones that do are in ``tests/integration/test_cli_faults.py``."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from builders import BOOKS, NOW, h2h_event, market, winner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from arbtui.cli import INTERRUPTED, main, one_line
from arbtui.commands import COMMANDS, doctor
from arbtui.commands import scan as scan_command
from engine.config.profiles import PROFILES, ProfileName
from engine.detection.detector import DetectionContext, evaluate_group, evaluate_market
from engine.errors import PayloadError
from engine.markets.kalshi import Level, Orderbook, parse_orderbook
from engine.markets.snapshot import load_snapshot
from engine.money import money_str, parse_level_price, price_str

EXAMPLE = Path(__file__).parents[2] / "examples" / "snapshot.json"
SETTINGS_PREFIXES = ("KALSHI_", "ODDS_API_", "TRADING_", "PROFILE_", "MAX_", "MIN_", "MAPPING_", "PAPER_", "RISK_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ``.env`` in the working directory and no settings from the environment of whoever runs the tests."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper().startswith(SETTINGS_PREFIXES):
            monkeypatch.delenv(name)


def one_error_line(err: str, *needles: str) -> str:
    """``err`` is exactly one line, holds every needle, and no traceback."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)``'s exit code, whether returned or raised by argparse, with what it printed."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def example_with(tmp_path: Path, edit: Callable[[Any], None]) -> Path:
    doc = json.loads(EXAMPLE.read_text())
    edit(doc)
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(doc))
    return path


# -- the global guard --------------------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: object) -> object:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(scan_command, "load_snapshot", broken)
    code, out, err = run_main(capsys, "scan", str(EXAMPLE))
    assert code == 1 and out == ""
    line = one_error_line(err, "arbtui scan: error: unexpected RuntimeError: disk on fire second line", "--verbose")

    code, _, err = run_main(capsys, "scan", str(EXAMPLE), "--verbose")
    assert code == 1 and "Traceback" in err and "disk on fire" in err
    assert err.strip().splitlines()[-1] == line.replace(" (run with --verbose for the traceback)", "")
    code, _, err = run_main(capsys, "--verbose", "scan", str(EXAMPLE))  # the flag before the command too
    assert code == 1 and "Traceback" in err


def test_ctrl_c_exits_130_with_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(path: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(scan_command, "load_snapshot", interrupted)
    code, out, err = run_main(capsys, "scan", str(EXAMPLE))
    assert code == INTERRUPTED and out == ""
    one_error_line(err, "arbtui scan: stopped: interrupted")


def test_one_line_masks_keys_in_urls_and_caps_the_length() -> None:
    line = one_line(ValueError("GET http://h/v4/sports?apiKey=abc123&x=1 failed"))
    assert "abc123" not in line and "apiKey=<hidden>&x=1" in line
    assert len(one_line(ValueError("x" * 5000))) <= 400


def test_every_command_takes_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    for command in COMMANDS:
        code, out, _ = run_main(capsys, command, "--help")
        assert code == 0 and "--verbose" in out, command


def test_a_bad_argument_is_one_line_without_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "scan", str(EXAMPLE), "--bankroll", "-1")
    assert code == 2
    one_error_line(err, "arbtui scan: error: argument --bankroll", "see arbtui scan --help")


# -- scan: hostile snapshots -------------------------------------------------------------------------


def test_an_orderbook_level_at_one_dollar_is_a_skipped_bad_entry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ticker = "KXNFLGAME-26NOV26GBDET-DET"

    def edit(doc: Any) -> None:
        doc["kalshi"]["orderbooks"][ticker]["orderbook_fp"]["no_dollars"].append(["1.0000", "5"])
        doc["kalshi"]["orderbooks"]["KXNHLGAME-26NOV27NYRBOS-NYR"]["orderbook_fp"]["yes_dollars"].append(["0", "5"])

    code, out, err = run_main(capsys, "scan", str(example_with(tmp_path, edit)), "--json")
    assert code == 0 and "Traceback" not in err
    report = json.loads(out)
    bad = [e for e in report["errors"] if "orderbook_fp" in e]
    assert len(bad) == 2 and any(ticker in e and "'1.0000'" in e and "strictly between 0 and 1" in e for e in bad)
    skipped = {s["ticker"]: s["reason"] for s in report["skipped"]}
    assert ticker in skipped  # its book was refused, so it is not priced; the rest of the board still is
    assert any(s["ticker"] == "KXNFLGAME-26NOV26CINBAL-CIN" for s in report["signals"])


def test_detection_never_prices_a_free_ask() -> None:
    """A book built without the parser (as a feed applying deltas could) with a NO bid at $1, a YES ask of $0:
    the market is skipped, not sized as a free contract nor divided by its zero price."""
    det, gb = "Detroit Lions", "Green Bay Packers"
    ticker, event = "KXNFLGAME-26NOV26GBDET-DET", "KXNFLGAME-26NOV26GBDET"
    odds = h2h_event("e1", det, gb, {b: {det: -150, gb: 130} for b in BOOKS})
    ctx = DetectionContext(PROFILES[ProfileName.STANDARD], Decimal(10000), 100)
    free = Orderbook(ticker, yes_bids=(Level(Decimal("0.40"), Decimal(10)),), no_bids=(Level(Decimal(1), Decimal(5)),))
    result = evaluate_market(market(ticker, event), free, winner(ticker, event, "e1", det), odds, ctx, NOW)
    assert result.signals == () and result.skip is not None and "outside 0..1" in result.skip.reason
    priced = Orderbook(ticker, no_bids=(Level(Decimal("0.60"), Decimal(5)),))  # YES at 0.40: an edge
    result = evaluate_market(market(ticker, event), priced, winner(ticker, event, "e1", det), odds, ctx, NOW)
    assert any(s.ask == Decimal("0.40") for s in result.signals)
    group = (market(ticker, event), market(f"{event}-GB", event))
    books = {ticker: free, f"{event}-GB": Orderbook(f"{event}-GB", no_bids=(Level(Decimal("0.50"), Decimal(5)),))}
    assert evaluate_group(group, books, ctx) == ()


def test_level_prices_must_be_inside_the_dollar() -> None:
    assert parse_level_price("0.0001") == Decimal("0.0001") and parse_level_price("0.9999") == Decimal("0.9999")
    for bad in ("0", "0.0000", "1", "1.0000", "1.01", "-0.1"):
        with pytest.raises(ValueError, match=r"between 0 and 1|outside 0\.\.1"):
            parse_level_price(bad)
    with pytest.raises(PayloadError, match=r"yes_dollars\[0\].*'1\.0000' is not strictly between"):
        parse_orderbook("T", {"orderbook_fp": {"yes_dollars": [["1.0000", "3"]]}})


def test_a_snapshot_nested_200000_deep_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    code, out, err = run_main(capsys, "scan", str(path))
    assert code == 1 and out == ""
    one_error_line(err, "arbtui scan: error:", "nested too deeply")


def test_a_5000_digit_integer_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(
        '{"as_of": "2026-11-26T15:00:00Z", "kalshi": {"markets": [], "exchange_index": ' + "7" * 5000 + "}}"
    )
    code, out, err = run_main(capsys, "scan", str(path))
    assert code == 1 and out == ""
    one_error_line(err, "arbtui scan: error:", "number longer than")


def test_the_real_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("{" * 100_000)
    proc = subprocess.run(
        [sys.executable, "-m", "arbtui.cli", "scan", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1 and proc.stdout == ""
    one_error_line(proc.stderr, "arbtui scan: error:")


def test_a_bankroll_of_1e26_is_shown_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "scan", str(EXAMPLE), "--bankroll", "1e26")
    assert code == 0 and "Traceback" not in err
    assert "bankroll $100000000000000000000000000.00" in out
    assert load_snapshot(EXAMPLE).markets  # the file was only read


def test_money_str_never_rounds_and_refuses_non_finite() -> None:
    assert money_str(Decimal("1e26")) == "1" + "0" * 26 + ".00"
    assert money_str(Decimal("12345678901234567890123456789.5")) == "12345678901234567890123456789.50"
    assert money_str(Decimal("47.400000")) == "47.40" and money_str(Decimal("0.000097")) == "0.000097"
    assert price_str(Decimal("0.42")) == "0.4200" and price_str(Decimal("1E+30")) == "1" + "0" * 30 + ".0000"
    for bad in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match="non-finite"):
            money_str(Decimal(bad))


# -- doctor, sim, bench: arguments -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "0", "-1", "inf", "1e9", "soon"])
def test_doctor_timeout_must_be_a_positive_finite_number(capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, out, err = run_main(capsys, "doctor", "--timeout", value)
    assert code == 2 and out == ""
    one_error_line(err, "arbtui doctor: error: argument --timeout:", repr(value))


def _weak_key_pem() -> bytes:
    """A 512-bit RSA key: ``cryptography`` no longer generates one, so it is built from two 256-bit primes."""

    def probable_prime(bits: int) -> int:
        while True:
            n = secrets.randbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
            if (n - 1) % 65537 and all(pow(a, n - 1, n) == 1 for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)):
                return n

    p, q = probable_prime(256), probable_prime(256)
    d = pow(65537, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(65537, p * q)
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), public)
    key = numbers.private_key()
    assert key.key_size == 512
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_doctor_with_a_512_bit_key_reports_every_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    key = tmp_path / "weak.pem"
    key.write_bytes(_weak_key_pem())
    key.chmod(0o600)
    env = tmp_path / "weak.env"
    env.write_text(f"KALSHI_BASE_URL=http://127.0.0.1:9/trade-api/v2\nKALSHI_KEY_ID=k\nKALSHI_PRIVATE_KEY_PATH={key}\n")
    code, out, err = run_main(capsys, "doctor", "--env-file", str(env), "--timeout", "1")
    assert code == 1 and "Traceback" not in err
    lines = out.splitlines()
    assert [line[7:23].strip() for line in lines] == list(doctor.NAMES)
    assert "[FAIL] kalshi key file" in lines[1] and "512-bit RSA key; at least 2048 bits needed" in lines[1]
    one_error_line(err, "doctor: 1/6 checks passed")


@pytest.mark.parametrize("flag", ["--kalshi-port", "--odds-port"])
@pytest.mark.parametrize("value", ["99999", "-1", "http"])
def test_sim_ports_must_be_ports(capsys: pytest.CaptureFixture[str], flag: str, value: str) -> None:
    code, out, err = run_main(capsys, "sim", flag, value)
    assert code == 2 and out == ""
    one_error_line(err, f"arbtui sim: error: argument {flag}:")


def test_sim_key_dir_and_env_file_are_checked_before_starting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory\n")
    code, out, err = run_main(capsys, "sim", "--key-dir", str(a_file / "keys"))
    assert code == 1 and out == ""
    one_error_line(err, "arbtui sim: error: --key-dir", "cannot be created")
    code, out, err = run_main(capsys, "sim", "--env-file", str(tmp_path / "missing" / "sim.env"))
    assert code == 1 and out == ""
    one_error_line(err, "arbtui sim: error: --env-file", "does not exist")
    code, out, err = run_main(capsys, "sim", "--env-file", str(tmp_path))
    assert code == 1 and out == ""
    one_error_line(err, "is a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


@pytest.mark.parametrize(("flag", "value"), [("--markets", "1"), ("--markets", "-3"), ("--repeat", "0")])
def test_bench_sizes_have_a_floor(capsys: pytest.CaptureFixture[str], flag: str, value: str) -> None:
    code, out, err = run_main(capsys, "bench", "--only", "detection", flag, value)
    assert code == 2 and out == ""
    one_error_line(err, f"arbtui bench: error: argument {flag}: must be at least")


def test_gitignore_keeps_generated_files_out() -> None:
    root = Path(__file__).parents[2]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    names = ["sim.env", "kalshi_private_key.pem", "snap.json", ".snap.json.x1y2.tmp"]
    proc = subprocess.run(["git", "check-ignore", *names], cwd=root, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.split() == names
