"""Removing the bookmaker's margin from n-outcome markets.

Each method maps raw implied probabilities ``r_i`` (summing to ``S``, usually > 1) to fair
probabilities summing to 1. ``power`` is the default: it never leaves 0..1 and corrects part of the
favourite-longshot bias that ``multiplicative`` ignores. Solvers converge to 1e-12.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from enum import StrEnum
from functools import lru_cache

from engine.errors import PricingError

TOLERANCE = 1e-12
_MAX_ITER = 200


class VigMethod(StrEnum):
    MULTIPLICATIVE = "multiplicative"
    ADDITIVE = "additive"
    POWER = "power"
    SHIN = "shin"


def _check(raw: Sequence[float]) -> float:
    if len(raw) < 2:
        raise PricingError(f"vig removal needs at least two outcomes, got {len(raw)}")
    for r in raw:
        if not 0.0 < r < 1.0:
            raise PricingError(f"implied probability {r} is outside (0, 1)")
    return math.fsum(raw)


def multiplicative(raw: Sequence[float]) -> list[float]:
    total = _check(raw)
    return [r / total for r in raw]


def additive(raw: Sequence[float]) -> list[float]:
    """Subtract the overround equally; refuses results outside 0..1 instead of clamping them."""
    total = _check(raw)
    shift = (total - 1.0) / len(raw)
    fair = [r - shift for r in raw]
    if any(not 0.0 <= p <= 1.0 for p in fair):
        raise PricingError("additive vig removal gives a probability outside 0..1 for these odds")
    return fair


def power(raw: Sequence[float]) -> list[float]:
    """Solve ``sum(r_i ** k) = 1`` for k by Newton's method (the sum is convex and decreasing in k)."""
    total = _check(raw)
    if abs(total - 1.0) <= TOLERANCE:
        return list(raw)
    logs = [math.log(r) for r in raw]
    k = 1.0
    for _ in range(_MAX_ITER):
        powered = [math.exp(k * lg) for lg in logs]
        f = math.fsum(powered) - 1.0
        if abs(f) <= TOLERANCE:
            break
        slope = math.fsum(p * lg for p, lg in zip(powered, logs, strict=True))
        step = f / slope
        k -= step
        if k <= 0.0:
            k = 1e-9
    else:  # pragma: no cover - Newton on a convex monotone function does not stall
        raise PricingError("power vig removal did not converge")
    return _normalised([math.exp(k * lg) for lg in logs])


def shin(raw: Sequence[float]) -> list[float]:
    """Shin's insider-trading model: bisection on z, then the closed form for each p_i."""
    total = _check(raw)
    if abs(total - 1.0) <= TOLERANCE:
        return list(raw)

    def probs(z: float) -> list[float]:
        return [(math.sqrt(z * z + 4.0 * (1.0 - z) * r * r / total) - z) / (2.0 * (1.0 - z)) for r in raw]

    def excess(z: float) -> float:
        return math.fsum(probs(z)) - 1.0

    # The sum decreases in z; z = 0 gives sqrt(S). For S > 1 the root lies in (0, 1), for S < 1 below 0.
    lo, hi = (0.0, 0.999999) if total > 1.0 else (-0.999999, 0.0)
    if excess(lo) * excess(hi) > 0:
        raise PricingError("shin vig removal has no solution for these odds")
    for _ in range(_MAX_ITER):
        mid = (lo + hi) / 2.0
        e = excess(mid)
        if abs(e) <= TOLERANCE or hi - lo < 1e-16:
            return _normalised(probs(mid))
        if e > 0:
            lo = mid
        else:
            hi = mid
    return _normalised(probs((lo + hi) / 2.0))


def _normalised(fair: list[float]) -> list[float]:
    """Remove the last ~1e-13 of solver residue so the fair vector sums to 1 to float precision."""
    total = math.fsum(fair)
    return [p / total for p in fair]


_METHODS: dict[VigMethod, Callable[[Sequence[float]], list[float]]] = {
    VigMethod.MULTIPLICATIVE: multiplicative,
    VigMethod.ADDITIVE: additive,
    VigMethod.POWER: power,
    VigMethod.SHIN: shin,
}


def remove_vig(raw: Sequence[float], method: VigMethod = VigMethod.POWER) -> list[float]:
    """Fair probabilities for the outcomes whose raw implied probabilities are ``raw``."""
    return list(_cached(tuple(raw), method))


@lru_cache(maxsize=65536)
def _cached(raw: tuple[float, ...], method: VigMethod) -> tuple[float, ...]:
    """Both team markets of a game, and every re-evaluation until the quote moves, share one solve."""
    return tuple(_METHODS[method](raw))
