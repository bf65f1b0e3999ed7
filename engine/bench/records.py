"""The sample execution records the storage benchmarks write and the store tests build, defined once.

A benchmark and a test that write differently shaped orders would measure or check different things; both
take their records from here and change only the fields that matter to them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.detection.signals import Side
from engine.execution.model import Action, FillRecord, Mode, OrderIntent, TimeInForce

TICKER = "KXNFLGAME-26JAN01BENCH-AAA"
EVENT = "KXNFLGAME-26JAN01BENCH"


def sample_intent(client_order_id: str, created_at: datetime, **changes: Any) -> OrderIntent:
    """A paper IOC buy of 10 YES at 0.42 on an NFL market; ``changes`` replace any field."""
    intent = OrderIntent(
        client_order_id=client_order_id,
        ticker=TICKER,
        event_ticker=EVENT,
        league="NFL",
        side=Side.YES,
        action=Action.BUY,
        count=10,
        limit_price=Decimal("0.42"),
        time_in_force=TimeInForce.IOC,
        mode=Mode.PAPER,
        created_at=created_at,
        signal_key=f"{client_order_id}-signal",
    )
    return replace(intent, **changes) if changes else intent


def sample_fill(fill_id: str, client_order_id: str, ts: datetime, **changes: Any) -> FillRecord:
    """A paper fill of 10 YES bought at 0.42 with a 0.07 fee; ``changes`` replace any field."""
    fill = FillRecord(
        fill_id=fill_id,
        client_order_id=client_order_id,
        ticker=TICKER,
        side=Side.YES,
        action=Action.BUY,
        count=10,
        price=Decimal("0.42"),
        fee=Decimal("0.07"),
        ts=ts,
        mode=Mode.PAPER,
    )
    return replace(fill, **changes) if changes else fill
