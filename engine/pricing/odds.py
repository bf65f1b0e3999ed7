"""Sportsbook odds formats and their implied probabilities.

Decimal odds are kept as ``Decimal`` because ``1 / decimal_odds`` is a hedge stake in dollars; the
float helpers exist for the probability math, where floats are fine.
"""

from __future__ import annotations

from decimal import Decimal

from engine.errors import PricingError

_HUNDRED = Decimal(100)


def american_to_decimal(american: int | Decimal) -> Decimal:
    """+130 -> 2.30, -150 -> 1.6667 (exact to Decimal's 28 digits)."""
    a = Decimal(american)
    if -100 < a < 100:
        raise PricingError(f"american odds {american} are invalid: must be <= -100 or >= +100")
    if a > 0:
        return 1 + a / _HUNDRED
    return 1 + _HUNDRED / -a


def decimal_to_american(decimal_odds: Decimal) -> Decimal:
    """Inverse of :func:`american_to_decimal`; even money (2.0) maps to +100."""
    if decimal_odds <= 1:
        raise PricingError(f"decimal odds {decimal_odds} are invalid: must be > 1")
    if decimal_odds >= 2:
        return (decimal_odds - 1) * _HUNDRED
    return -_HUNDRED / (decimal_odds - 1)


def implied_probability(decimal_odds: Decimal) -> Decimal:
    """Raw implied probability (vig included), also the stake that returns $1 if the bet wins."""
    if decimal_odds <= 1:
        raise PricingError(f"decimal odds {decimal_odds} are invalid: must be > 1")
    return 1 / decimal_odds


def american_stake(american: int | Decimal) -> Decimal:
    """Exact implied probability of american odds (-150 -> 0.6): the stake that returns $1 if it wins."""
    a = Decimal(american)
    if -100 < a < 100:
        raise PricingError(f"american odds {american} are invalid: must be <= -100 or >= +100")
    if a > 0:
        return _HUNDRED / (a + _HUNDRED)
    return -a / (-a + _HUNDRED)


def american_to_probability(american: int | Decimal) -> float:
    """Implied probability straight from american odds, as a float for vig removal."""
    a = float(american)
    if -100 < a < 100:
        raise PricingError(f"american odds {american} are invalid: must be <= -100 or >= +100")
    if a > 0:
        return 100.0 / (a + 100.0)
    return -a / (-a + 100.0)
