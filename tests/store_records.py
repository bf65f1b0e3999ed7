"""Builders for the execution records the store tests write, so each test states only what matters to it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.bench.records import sample_fill, sample_intent
from engine.execution.model import (
    FillRecord,
    OrderIntent,
    OrderRecord,
    OrderState,
    SettlementRecord,
)

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
TICKER = "KXNFLGAME-26NOV26BUFKC-BUF"
EVENT = "KXNFLGAME-26NOV26BUFKC"


def intent(cid: str = "c1", seconds: float = 0, base: datetime = T0, **changes: Any) -> OrderIntent:
    at = base + timedelta(seconds=seconds)
    sample = sample_intent(cid, at, ticker=TICKER, event_ticker=EVENT, signal_key="sig-1", attempt=0, exchange_index=3)
    return replace(sample, **changes)


def advanced(
    record: OrderRecord, state: OrderState, seconds: float, base: datetime = T0, **changes: Any
) -> OrderRecord:
    return replace(record, state=state, updated_at=base + timedelta(seconds=seconds), **changes)


def fill(fill_id: str = "f1", cid: str = "c1", seconds: float = 1, base: datetime = T0, **changes: Any) -> FillRecord:
    sample = sample_fill(fill_id, cid, base + timedelta(seconds=seconds), ticker=TICKER, count=4, price=Decimal("0.41"))
    return replace(sample, **changes)


def settlement(
    ticker: str = TICKER, value: str = "1", seconds: float = 3600, base: datetime = T0, **changes: Any
) -> SettlementRecord:
    base = SettlementRecord(
        ticker=ticker, event_ticker=EVENT, value=Decimal(value), ts=base + timedelta(seconds=seconds)
    )
    return replace(base, **changes)
