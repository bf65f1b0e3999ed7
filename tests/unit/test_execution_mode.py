"""Live trading needs PAPER_TRADING=false AND a Kalshi key; anything less is refused with one line naming
what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config.settings import Settings
from engine.errors import ConfigError
from engine.execution.mode import live_refusal, trading_mode
from engine.execution.model import Mode


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


KEY = {"kalshi_key_id": "abc", "kalshi_private_key_path": Path("/keys/k.pem")}


def test_paper_is_the_default_whatever_the_settings(tmp_path: Path) -> None:
    assert trading_mode(settings(tmp_path)) is Mode.PAPER
    assert trading_mode(settings(tmp_path, paper_trading=False, **KEY)) is Mode.PAPER


def test_live_with_both_is_allowed(tmp_path: Path) -> None:
    s = settings(tmp_path, paper_trading=False, **KEY)
    assert live_refusal(s) is None and trading_mode(s, live=True) is Mode.LIVE


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"paper_trading": True, **KEY}, "live trading refused: PAPER_TRADING is true (set PAPER_TRADING=false"),
        ({"paper_trading": False}, "live trading refused: KALSHI_KEY_ID and KALSHI_PRIVATE_KEY_PATH not set"),
        ({"paper_trading": False, "kalshi_key_id": "abc"}, "live trading refused: KALSHI_PRIVATE_KEY_PATH not set"),
        ({"paper_trading": True}, "PAPER_TRADING is true and KALSHI_KEY_ID and KALSHI_PRIVATE_KEY_PATH not set"),
    ],
)
def test_live_without_both_is_refused_naming_what_is_missing(
    tmp_path: Path, values: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        trading_mode(settings(tmp_path, **values), live=True)
    assert message in str(info.value) and "\n" not in str(info.value)
