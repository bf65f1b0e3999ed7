"""``client_order_id`` derived from the signal and the attempt, so a retry can never double a position.

Kalshi refuses a second order with a ``client_order_id`` it already holds (409), and an order whose
outcome is unknown is found again by that id. Both only protect us if the id is a function of *what we
decided* rather than of when or how often we sent it: the same signal and attempt always give the same
id, in this process or after a restart, and a new attempt (the operator retrying a decision the
exchange refused) gets a new one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from engine.detection.signals import Signal
from engine.money import price_str

_NAMESPACE = uuid.UUID("6f1d2c3a-8e4b-5a7c-9d0e-1f2a3b4c5d6e")


def signal_key(signal: Signal, first_seen: datetime, ticker: str | None = None) -> str:
    """The identity of one trading decision: what is bought (kind, market, side, limit, size) and the moment
    detection first saw this opportunity, so the same edge reappearing tomorrow is a new decision.

    ``ticker`` names one leg of a Kalshi-only arbitrage (each leg is its own order)."""
    if first_seen.tzinfo is None:
        raise ValueError("first_seen must be timezone-aware")
    leg = ticker or signal.ticker
    limit = signal.limit_price
    if ticker is not None and signal.tickers:
        limit = signal.leg_limits[signal.tickers.index(ticker)]
    stamp = int(first_seen.timestamp() * 1_000_000)
    return (
        f"{signal.kind.value}|{signal.event_ticker}|{leg}|{signal.side.value}|{price_str(limit)}|{signal.count}|{stamp}"
    )


def client_order_id(key: str, attempt: int) -> str:
    """A UUID-shaped id (Kalshi's own example format) that depends on ``key`` and ``attempt`` only."""
    if not key:
        raise ValueError("a client_order_id needs a non-empty signal key")
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    return str(uuid.uuid5(_NAMESPACE, f"{key}#{attempt}"))


def paper_fill_id(client_order_id: str, index: int) -> str:
    """Paper fills are numbered per order, so replaying the same paper order records the same fills."""
    return f"paper-{client_order_id}-{index}"
