"""Builders for the execution records the store tests write, so each test states only what matters to it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.detection.signals import Side
from engine.execution.model import (
    Action,
    FillRecord,
    Mode,
    OrderIntent,
    OrderRecord,
    OrderState,
    SettlementRecord,
    TimeInForce,
)

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
TICKER = "KXNFLGAME-26NOV26BUFKC-BUF"
EVENT = "KXNFLGAME-26NOV26BUFKC"


def intent(cid: str = "c1", seconds: float = 0, base: datetime = T0, **changes: Any) -> OrderIntent:
    base = OrderIntent(
        client_order_id=cid,
        ticker=TICKER,
        event_ticker=EVENT,
        league="NFL",
        side=Side.YES,
        action=Action.BUY,
        count=10,
        limit_price=Decimal("0.42"),
        time_in_force=TimeInForce.IOC,
        mode=Mode.PAPER,
        created_at=base + timedelta(seconds=seconds),
        signal_key="sig-1",
        attempt=0,
        exchange_index=3,
    )
    return replace(base, **changes)


def advanced(
    record: OrderRecord, state: OrderState, seconds: float, base: datetime = T0, **changes: Any
) -> OrderRecord:
    return replace(record, state=state, updated_at=base + timedelta(seconds=seconds), **changes)


def fill(fill_id: str = "f1", cid: str = "c1", seconds: float = 1, base: datetime = T0, **changes: Any) -> FillRecord:
    base = FillRecord(
        fill_id=fill_id,
        client_order_id=cid,
        ticker=TICKER,
        side=Side.YES,
        action=Action.BUY,
        count=4,
        price=Decimal("0.41"),
        fee=Decimal("0.07"),
        ts=base + timedelta(seconds=seconds),
        mode=Mode.PAPER,
    )
    return replace(base, **changes)


def settlement(
    ticker: str = TICKER, value: str = "1", seconds: float = 3600, base: datetime = T0, **changes: Any
) -> SettlementRecord:
    base = SettlementRecord(
        ticker=ticker, event_ticker=EVENT, value=Decimal(value), ts=base + timedelta(seconds=seconds)
    )
    return replace(base, **changes)
