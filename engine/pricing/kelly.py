"""Kelly sizing for a binary contract bought at an effective price (price plus fee)."""

from __future__ import annotations


def kelly_fraction(fair: float, effective_price: float) -> float:
    """``f = (q - p) / (1 - p)``: the bankroll share that maximises log growth; <= 0 means do not bet."""
    if not 0.0 < effective_price < 1.0:
        return 0.0
    return (fair - effective_price) / (1.0 - effective_price)
