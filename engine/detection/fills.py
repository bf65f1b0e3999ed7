"""Walking an ask ladder: how many contracts are worth taking, at what limit, costing what."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from engine.markets.kalshi import Level
from engine.money import ZERO
from engine.pricing.fees import FeeSchedule, buy_fees_charged


def depth_while(asks: Sequence[Level], accept: Callable[[Decimal], bool]) -> tuple[Decimal, int]:
    """Contracts available from the best ask until the first level ``accept`` refuses, and the level count."""
    depth = ZERO
    used = 0
    for level in asks:
        if not accept(level.price):
            break
        depth += level.count
        used += 1
    return depth, used


def whole(count: Decimal) -> int:
    return int(count.to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True, slots=True)
class Fill:
    """The fill a taker order for ``count`` contracts gets by sweeping the best levels."""

    count: int
    limit_price: Decimal
    cost: Decimal
    fees: Decimal
    legs: tuple[tuple[Decimal, Decimal], ...]  # (price, contracts) per level


def sweep(asks: Sequence[Level], count: int, fees: FeeSchedule) -> Fill:
    """Take ``count`` contracts from the best asks; fees as charged for one order filling level by level."""
    remaining = Decimal(count)
    legs: list[tuple[Decimal, Decimal]] = []
    for level in asks:
        if remaining <= 0:
            break
        take = min(level.count, remaining)
        legs.append((level.price, take))
        remaining -= take
    if remaining > 0:
        raise ValueError(f"ladder holds fewer than {count} contracts")
    cost = sum((price * take for price, take in legs), ZERO)
    return Fill(count, legs[-1][0], cost, buy_fees_charged(legs, fees), tuple(legs))
