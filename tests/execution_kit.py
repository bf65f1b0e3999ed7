"""Builders for the execution tests: an order intent with defaults, stated only where it matters."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.detection.signals import Side
from engine.execution.ids import client_order_id
from engine.execution.model import Action, Mode, OrderIntent, OrderRecord, OrderState, TimeInForce

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def intent(ticker: str = "KXNBAGAME-26NOV25BOSNYK-BOS", **changes: Any) -> OrderIntent:
    fields: dict[str, Any] = {
        "client_order_id": client_order_id(
            f"test|{ticker}|{changes.get('signal_key', 'k')}", changes.get("attempt", 0)
        ),
        "ticker": ticker,
        "event_ticker": ticker.rsplit("-", 1)[0],
        "league": "nba",
        "side": Side.YES,
        "action": Action.BUY,
        "count": 10,
        "limit_price": Decimal("0.55"),
        "time_in_force": TimeInForce.IOC,
        "mode": Mode.PAPER,
        "created_at": T0,
    }
    fields.update(changes)
    return OrderIntent(**fields)


def record(state: OrderState = OrderState.NEW, **changes: Any) -> OrderRecord:
    return OrderRecord(intent(**changes), state, T0)
