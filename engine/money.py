"""Exact money: Kalshi dollar strings and fixed-point counts parsed into ``Decimal``.

Binary floats never hold a price, fee, cost or P&L here; probabilities may be floats.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

ZERO = Decimal(0)
ONE = Decimal(1)
CENTICENT = Decimal("0.0001")
CENT = Decimal("0.01")


def parse_decimal(value: object) -> Decimal:
    """Parse a decimal string (or int) exactly; floats are refused because they already lost precision."""
    if isinstance(value, bool):
        raise ValueError(f"expected a decimal string, got {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a decimal string, got {type(value).__name__} {value!r}")
    try:
        parsed = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"expected a decimal string, got {value!r}") from None
    if not parsed.is_finite():
        raise ValueError(f"expected a finite decimal, got {value!r}")
    return parsed


def parse_price(value: object) -> Decimal:
    """A Kalshi ``*_dollars`` price: a decimal string within [0, 1]."""
    if not isinstance(value, str):
        raise ValueError(
            f"expected a dollar string like '0.4200', got {type(value).__name__} {value!r}"
            " (integer-cent price fields were removed in 2026)"
        )
    price = parse_decimal(value)
    if price < ZERO or price > ONE:
        raise ValueError(f"price {value!r} is outside 0..1 dollars")
    return price


def parse_level_price(value: object) -> Decimal:
    """An order book level's price: strictly between 0 and 1 dollars. A bid at 1 would make the opposite ask
    free (and a bid at 0 buys nothing), which no real book shows; such a level is a bad entry, not a quote."""
    price = parse_price(value)
    if price in (ZERO, ONE):
        raise ValueError(f"order book price {value!r} is not strictly between 0 and 1 dollars")
    return price


def parse_count(value: object) -> Decimal:
    """A Kalshi ``*_fp`` contract count: a non-negative decimal string."""
    count = parse_decimal(value)
    if count < ZERO:
        raise ValueError(f"count {value!r} is negative")
    return count


def ceil_to(amount: Decimal, step: Decimal) -> Decimal:
    """Round up to a multiple of ``step`` (Kalshi rounds trade fees up to the centicent)."""
    return (amount / step).to_integral_value(rounding=ROUND_CEILING) * step


def floor_to(amount: Decimal, step: Decimal) -> Decimal:
    """Round toward negative infinity to a multiple of ``step``."""
    return (amount / step).to_integral_value(rounding=ROUND_FLOOR) * step


def quantize(amount: Decimal, step: Decimal = CENTICENT) -> Decimal:
    """Round half-even for display only; never feed the result back into a decision."""
    return amount.quantize(step, rounding=ROUND_HALF_EVEN)


def to_decimal(probability: float) -> Decimal:
    """A float probability as the shortest Decimal that round-trips, for exact comparisons with money."""
    return Decimal(repr(probability))


def _exact(amount: Decimal) -> Context:
    """A context wide enough that normalising ``amount`` or padding it to four places never rounds it: the
    default 28 digits would round a 29-digit amount and refuse to pad a bankroll of 1e26 to cents."""
    if not amount.is_finite():
        raise ValueError(f"cannot show a non-finite amount {amount}")
    digits, exponent = len(amount.as_tuple().digits), amount.as_tuple().exponent
    assert isinstance(exponent, int)
    return Context(prec=digits + max(exponent, 0) + 5)


def money_str(amount: Decimal) -> str:
    """Dollars without float noise or trailing zeros past the cent: 47.400000 -> "47.40", 0.000097 -> "0.000097"."""
    exact = _exact(amount)
    normal = amount.normalize(exact)
    if normal.as_tuple().exponent >= -2:  # type: ignore[operator]
        normal = normal.quantize(CENT, context=exact)
    return format(normal, "f")


def price_str(price: Decimal) -> str:
    """A price in Kalshi's own four-decimal form ("0.4200"), or longer only when it has more digits."""
    exact = _exact(price)
    normal = price.normalize(exact)
    if normal.as_tuple().exponent >= -4:  # type: ignore[operator]
        normal = normal.quantize(CENTICENT, context=exact)
    return format(normal, "f")
