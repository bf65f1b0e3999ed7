"""Positions and P&L: a pure ledger from fills and settlements, marked at the bid you could sell at."""

from engine.portfolio.ledger import (
    DayPnl,
    FillResult,
    HedgeInstruction,
    Ledger,
    LedgerError,
    MarketRef,
    Position,
    SettlementResult,
    apply_fill,
    apply_settlement,
    long_side,
    record_hedges,
)
from engine.portfolio.pnl import Mark, MarketPnl, PnlTotals, Summary, exposure, mark_position, summarize, totals

__all__ = [
    "DayPnl",
    "FillResult",
    "HedgeInstruction",
    "Ledger",
    "LedgerError",
    "Mark",
    "MarketPnl",
    "MarketRef",
    "PnlTotals",
    "Position",
    "SettlementResult",
    "Summary",
    "apply_fill",
    "apply_settlement",
    "exposure",
    "long_side",
    "mark_position",
    "record_hedges",
    "summarize",
    "totals",
]
