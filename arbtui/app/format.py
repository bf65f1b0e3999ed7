"""How values read on screen: money, prices, probabilities, odds and ages as short strings.

Presentation only: every number arrives computed by the engine; these functions just spell it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def money(value: Decimal | None) -> str:
    """``-$1.23`` / ``$4.00``; an em dash when unknown."""
    if value is None:
        return "—"
    q = value.quantize(CENT, rounding=ROUND_HALF_EVEN)
    return f"-${-q:,}" if q < 0 else f"${q:,}"


def signed_money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = money(value)
    return text if text.startswith("-") else f"+{text}"


def price(value: Decimal | None) -> str:
    """A contract price in dollars with its exchange precision, e.g. ``0.43`` or ``0.4350``."""
    if value is None:
        return "—"
    text = format(value.normalize(), "f")
    if "." not in text:
        text += ".00"
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def percent(value: float | Decimal | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def american(value: Decimal | None) -> str:
    if value is None:
        return "—"
    whole = int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    return f"+{whole}" if whole > 0 else str(whole)


def age(seconds: float | None) -> str:
    """``4s``, ``3m``, ``2h``; an em dash before the first message."""
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    return f"{s // 3600}h"


def count(value: Decimal | int) -> str:
    d = Decimal(value)
    return str(int(d)) if d == d.to_integral_value() else format(d.normalize(), "f")
