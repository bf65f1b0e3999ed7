"""Which signals are the same bet, and which one of each bet is sized.

Detection reports every way it finds to take a position, so one Kalshi exposure can appear more than once:
an ``edge`` and an ``arb`` on the same market and side, or YES on one team and NO on the other of a
two-way game (each pays exactly when the first team wins; in an NFL tie both settle at $0.50). Listed side
by side, each sized to the full limit, they read as two bets and twice the money. Grouping them keeps one
row per exposure sized and marks the rest as alternatives.

Which row is kept: a locked profit (``arb``, ``kalshi_arb``) before an expected one (``edge``), because
its value does not depend on the consensus fair price being right; among equals, the higher EV.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.detection.signals import Side, Signal, SignalKind


@dataclass(frozen=True, slots=True)
class BetRow:
    """One signal in output order: its bet number (1-based) and whether it is the row that is sized."""

    signal: Signal
    bet: int
    kept: bool


def two_way_partners(groups: Iterable[Sequence[str]]) -> dict[str, str]:
    """``{ticker: other ticker}`` for every exhaustive winner event of exactly two markets."""
    out: dict[str, str] = {}
    for group in groups:
        if len(group) == 2:
            a, b = group
            out[a], out[b] = b, a
    return out


def exposure(signal: Signal, partners: Mapping[str, str]) -> tuple[str, ...]:
    """The Kalshi position a signal takes, written one way: NO on a two-way market is YES on its partner."""
    if signal.kind is SignalKind.KALSHI_ARB:
        return ("all outcomes", signal.side.value, *sorted(signal.tickers))
    if signal.side is Side.NO and signal.ticker in partners:
        return (partners[signal.ticker], Side.YES.value)
    return (signal.ticker, signal.side.value)


def _preference(signal: Signal) -> tuple[bool, Decimal]:
    locked = signal.kind is not SignalKind.EDGE
    return (not locked, -signal.ev)


def group_bets(signals: Sequence[Signal], partners: Mapping[str, str]) -> list[BetRow]:
    """Signals grouped by exposure: bets ordered by the kept row's EV (best first), the kept row first
    within its bet, then its alternatives in their original order."""
    groups: dict[tuple[str, ...], list[Signal]] = {}
    for s in signals:
        groups.setdefault(exposure(s, partners), []).append(s)
    ordered = []
    for members in groups.values():
        kept = min(members, key=_preference)  # min is stable: the earlier of equals wins
        ordered.append((kept, [m for m in members if m is not kept]))
    ordered.sort(key=lambda pair: -pair[0].ev)
    rows: list[BetRow] = []
    for number, (kept, others) in enumerate(ordered, start=1):
        rows.append(BetRow(kept, number, True))
        rows.extend(BetRow(o, number, False) for o in others)
    return rows
