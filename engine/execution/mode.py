"""Paper or live: paper is the default, and live needs two deliberate acts, never one.

Going live needs ``PAPER_TRADING=false`` AND a Kalshi key (``KALSHI_KEY_ID`` and ``KALSHI_PRIVATE_KEY_PATH``).
A request for live trading that lacks either is refused with one line naming what is missing, rather than
quietly trading paper when the operator believes orders are real (or real when they believe paper).
"""

from __future__ import annotations

from engine.config.settings import Settings
from engine.errors import ConfigError
from engine.execution.model import Mode


def live_refusal(settings: Settings) -> str | None:
    """Why live trading is not allowed with these settings, or None when it is."""
    missing = [
        name
        for name, value in (
            ("KALSHI_KEY_ID", settings.kalshi_key_id),
            ("KALSHI_PRIVATE_KEY_PATH", settings.kalshi_private_key_path),
        )
        if not value
    ]
    if settings.paper_trading and missing:
        return f"live trading refused: PAPER_TRADING is true and {' and '.join(missing)} not set"
    if settings.paper_trading:
        return "live trading refused: PAPER_TRADING is true (set PAPER_TRADING=false to trade real money)"
    if missing:
        return f"live trading refused: {' and '.join(missing)} not set (a Kalshi key is required)"
    return None


def trading_mode(settings: Settings, *, live: bool = False) -> Mode:
    """PAPER unless ``live`` is asked for and allowed; a refused live request raises :class:`ConfigError`."""
    if not live:
        return Mode.PAPER
    refusal = live_refusal(settings)
    if refusal is not None:
        raise ConfigError(refusal)
    return Mode.LIVE
