"""Vig removal for many sportsbook markets at once, so a cold pass solves thousands of markets in a few
numpy calls instead of one Python solver call each.

Only the screen reads these numbers, and it screens with a tolerance (``screen.EPS``); the exact rules
solve each market again with :func:`engine.pricing.vig.remove_vig`. What must match the scalar solver
exactly is *whether* a market can be priced at all, since that decides how many books count as fresh:
for ``power`` and ``multiplicative`` that is "every implied probability strictly inside (0, 1)", which is
checked here the same way. ``additive`` and ``shin`` can also refuse for reasons of their own, so they go
through the scalar solver market by market.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from engine.errors import PricingError
from engine.pricing.vig import _MAX_ITER, TOLERANCE, VigMethod, remove_vig

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]


def remove_vig_rows(raw: Floats, method: VigMethod) -> tuple[Floats, Bools]:
    """Fair probabilities for each row of ``raw`` (one market per row, its outcomes' implied probabilities),
    and which rows could be priced; rows that cannot hold NaN."""
    rows = raw.shape[0]
    fair: Floats = np.full(raw.shape, np.nan)
    if rows == 0:
        return fair, np.zeros(0, dtype=np.bool_)
    with np.errstate(invalid="ignore"):
        ok: Bools = np.asarray(((raw > 0.0) & (raw < 1.0)).all(axis=1), dtype=np.bool_)
    if method is VigMethod.POWER:
        fair[ok] = _power(raw[ok])
    elif method is VigMethod.MULTIPLICATIVE:
        good = raw[ok]
        fair[ok] = good / good.sum(axis=1, keepdims=True)
    else:
        ok = ok.copy()
        for i in np.nonzero(ok)[0]:
            try:
                fair[i] = remove_vig(raw[i].tolist(), method)
            except PricingError:
                ok[i] = False
    return fair, ok


def _power(raw: Floats) -> Floats:
    """Newton's method on ``sum(r_i ** k) = 1`` for every row at once (as :func:`engine.pricing.vig.power`).

    Every row takes the same steps until the last one has converged: a converged row's further steps move
    ``k`` by less than the tolerance, and whole-column arithmetic is far cheaper than masking per step."""
    if raw.shape[0] == 0:
        return raw.copy()
    logs = [np.log(raw[:, c]) for c in range(raw.shape[1])]
    total = raw.sum(axis=1)
    k = np.ones(raw.shape[0])
    for _ in range(_MAX_ITER):
        powered = [np.exp(k * lg) for lg in logs]
        f = sum(powered[1:], powered[0]) - 1.0
        if float(np.abs(f).max()) <= TOLERANCE:
            break
        slope = sum((p * lg for p, lg in zip(powered[1:], logs[1:], strict=True)), powered[0] * logs[0])
        k = k - f / slope
        k[k <= 0.0] = 1e-9
    columns = [np.exp(k * lg) for lg in logs]
    norm = sum(columns[1:], columns[0])
    fair = np.stack([c / norm for c in columns], axis=1)
    unchanged = np.abs(total - 1.0) <= TOLERANCE
    fair[unchanged] = raw[unchanged]
    return fair


def remove_vig_flat(
    implied: Floats, starts: Ints, sizes: Ints, method: VigMethod, sizes_seen: Sequence[int]
) -> tuple[Floats, Bools]:
    """Markets laid end to end in ``implied`` (market ``u`` is ``implied[starts[u]:starts[u] + sizes[u]]``):
    the fair probabilities in the same layout, and which markets could be priced."""
    fair = np.full(implied.shape, np.nan)
    ok = np.zeros(starts.shape[0], dtype=np.bool_)
    for size in sizes_seen:
        units = np.nonzero(sizes == size)[0]
        if units.size == 0:
            continue
        idx = starts[units, None] + np.arange(size)
        rows, valid = remove_vig_rows(implied[idx], method)
        fair[idx] = rows
        ok[units] = valid
    return fair, ok
