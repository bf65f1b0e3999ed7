"""A ``market_lifecycle_v2`` message applied to the market it names, at once.

Waiting for the next discovery to notice a market closed, settled or paused would leave its signals live
(and orderable) for seconds; the new status goes straight to the board instead, and the market's signals
are withdrawn in the same step. Event types that only a fresh market list can answer (a market created,
its metadata or price structure changed) ask for a re-discovery instead. Statuses are the API's own
(``GET /markets/{ticker}``: initialized, inactive, active, closed, determined, disputed, amended, finalized).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from engine.connectors.kalshi.messages import MarketLifecycle
from engine.markets.kalshi import KalshiMarket

REDISCOVER = frozenset({"created", "metadata_updated", "price_level_structure_updated", "activated"})
"""Event types whose full answer is only in a fresh market list (re-activation too: the market may have
left the board while it was paused)."""


@dataclass(frozen=True, slots=True)
class LifecycleChange:
    """What one message means: the market as it now stands (None: nothing to apply here), and whether a
    re-discovery should follow."""

    market: KalshiMarket | None
    rediscover: bool


def apply_lifecycle(market: KalshiMarket | None, msg: MarketLifecycle, now: datetime) -> LifecycleChange:
    """``market`` is the board's copy (None when the market is not on the board)."""
    rediscover = msg.event_type in REDISCOVER
    if market is None:
        return LifecycleChange(None, rediscover)
    status = market.status
    close_time = market.close_time
    if msg.event_type == "deactivated" or msg.is_deactivated is True:
        status = "inactive"
    elif msg.event_type == "activated" or msg.is_deactivated is False:
        status = "active"
    if msg.event_type == "close_date_updated" and msg.close_ts is not None:
        close_time = datetime.fromtimestamp(msg.close_ts, UTC)
    if msg.event_type == "determined":
        status = "determined"
    elif msg.event_type == "settled":
        status = "finalized"
    elif status == "active" and close_time is not None and close_time <= now:
        status = "closed"
    if status == market.status and close_time == market.close_time:
        return LifecycleChange(None, rediscover)
    return LifecycleChange(replace(market, status=status, close_time=close_time), rediscover)
