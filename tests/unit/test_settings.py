"""Settings fail fast with one line naming the variable; profiles match the table; secrets stay secret."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from engine.config.profiles import PROFILES, ProfileName, ProfileOverrides, build_profile
from engine.config.settings import Settings, load_settings, settings_for_command
from engine.errors import ConfigError
from engine.pricing.vig import VigMethod

D = Decimal


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith(("KALSHI_", "ODDS_", "TRADING_", "PAPER_", "MAX_", "PROFILE_", "DATABASE_", "REDIS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_profile_table() -> None:
    got = {n: (p.min_edge, p.book_consensus, p.kelly_fraction, p.max_quote_age_s) for n, p in PROFILES.items()}
    assert got == {
        ProfileName.CONSERVATIVE: (D("0.06"), 4, D("0.15"), 60),
        ProfileName.STANDARD: (D("0.05"), 3, D("0.25"), 120),
        ProfileName.AGGRESSIVE: (D("0.03"), 3, D("0.35"), 180),
        ProfileName.VERY_AGGRESSIVE: (D("0.02"), 2, D("0.50"), 300),
    }
    assert all(p.books == ("draftkings", "fanduel", "betmgm", "williamhill_us") for p in PROFILES.values())
    assert all(p.vig_method is VigMethod.POWER for p in PROFILES.values())


def test_defaults() -> None:
    s = load_settings(None)
    assert s.trading_bankroll == D(10000) and s.paper_trading is True and s.max_position_size == 100
    assert s.profile().name == "STANDARD"


def test_custom_profile_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_PROFILE", "custom")
    monkeypatch.setenv("PROFILE_MIN_EDGE", "0.04")
    monkeypatch.setenv("PROFILE_BOOK_CONSENSUS", "2")
    monkeypatch.setenv("PROFILE_BOOKS", "draftkings, fanduel")
    monkeypatch.setenv("PROFILE_VIG_METHOD", "shin")
    p = load_settings(None).profile()
    assert (p.name, p.min_edge, p.book_consensus, p.books, p.vig_method) == (
        "CUSTOM",
        D("0.04"),
        2,
        ("draftkings", "fanduel"),
        VigMethod.SHIN,
    )
    assert p.kelly_fraction == D("0.25")  # CUSTOM starts from STANDARD


def test_overrides_on_a_named_profile() -> None:
    p = build_profile("aggressive", ProfileOverrides(kelly_fraction=D("0.1")))
    assert p.name == "AGGRESSIVE" and p.kelly_fraction == D("0.1") and p.min_edge == D("0.03")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TRADING_BANKROLL", "lots", "TRADING_BANKROLL"),
        ("TRADING_BANKROLL", "-5", "TRADING_BANKROLL"),
        ("MAX_POSITION_SIZE", "0", "MAX_POSITION_SIZE"),
        ("TRADING_PROFILE", "YOLO", "TRADING_PROFILE"),
        ("PAPER_TRADING", "maybe", "PAPER_TRADING"),
        ("KALSHI_BASE_URL", "ftp://x", "KALSHI_BASE_URL"),
        ("PROFILE_KELLY_FRACTION", "2", "PROFILE_KELLY_FRACTION"),
    ],
)
def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    message = str(err.value)
    assert expected in message and "\n" not in message


def test_inconsistent_profile_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_BOOK_CONSENSUS", "5")
    with pytest.raises(ConfigError, match="book_consensus"):
        load_settings(None)


def test_unknown_key_in_env_file_refused(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("TRADING_PROFILE=STANDARD\nTRADNG_BANKROLL=5\n")
    with pytest.raises(ConfigError, match="TRADNG_BANKROLL"):
        load_settings(env)


def test_secret_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODDS_API_KEY", "sk-very-secret-123")
    s = load_settings(None)
    assert "sk-very-secret-123" not in repr(s) and "sk-very-secret-123" not in str(s.model_dump())
    assert s.odds_api_key is not None and s.odds_api_key.get_secret_value() == "sk-very-secret-123"


def test_cli_reports_bad_setting_in_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TRADING_BANKROLL": "lots", "ODDS_API_KEY": "sk-very-secret-123"}
    example = Path(__file__).parents[2] / "examples" / "snapshot.json"
    proc = subprocess.run(
        [sys.executable, "-m", "arbtui.cli", "scan", str(example)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "TRADING_BANKROLL" in proc.stderr
    assert "sk-very-secret-123" not in proc.stderr + proc.stdout


def test_env_example_loads_and_documents_every_setting() -> None:
    example = Path(__file__).parents[2] / ".env.example"
    assert load_settings(example).profile().name == "STANDARD"
    text = example.read_text(encoding="utf-8")
    assert [name.upper() for name in Settings.model_fields if name.upper() not in text] == []


def test_a_named_settings_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"settings file .*typo\.env does not exist"):
        load_settings(tmp_path / "typo.env")
    assert settings_for_command(None).kalshi_base_url.startswith("https://")  # no ./.env: environment only
    (tmp_path / ".env").write_text("KALSHI_BASE_URL=http://127.0.0.1:9/trade-api/v2\n", encoding="utf-8")
    assert settings_for_command(None).kalshi_base_url == "http://127.0.0.1:9/trade-api/v2"


def test_environment_wins_over_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = tmp_path / "s.env"
    env.write_text("TRADING_BANKROLL=500\n", encoding="utf-8")
    monkeypatch.setenv("TRADING_BANKROLL", "700")
    assert load_settings(env).trading_bankroll == D(700)


def test_profile_overrides_apply_on_any_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_KELLY_FRACTION", "0.1")
    monkeypatch.setenv("PROFILE_MAX_EDGE", "0.2")
    s = load_settings(None)
    assert s.profile_overrides() == {"PROFILE_KELLY_FRACTION": "0.1", "PROFILE_MAX_EDGE": "0.2"}
    for base in ProfileName:
        p = s.profile(base)
        assert (p.name, p.kelly_fraction, p.max_edge) == (base.value, D("0.1"), D("0.2"))
    assert s.profile(ProfileName.CONSERVATIVE).min_edge == D("0.06")


def test_consensus_above_the_books_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_BOOKS", "draftkings,fanduel")
    monkeypatch.setenv("PROFILE_BOOK_CONSENSUS", "3")
    with pytest.raises(ConfigError, match="PROFILE_BOOK_CONSENSUS and PROFILE_BOOKS"):
        load_settings(None)
