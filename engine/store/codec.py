"""Records to portable column values and back, and the audit events the store writes itself.

Shared by every store implementation so that all of them keep money as exact decimal text, timestamps as
fixed-width ISO 8601 UTC text (lexicographic order is time order, in any SQL database) and booleans as 0/1.
A row that cannot be decoded raises :class:`StoreError` naming the table and key instead of a bare
``ValueError`` from deep inside.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from engine.detection.signals import Side
from engine.execution.model import (
    Action,
    AuditEvent,
    AuditKind,
    FillRecord,
    Mode,
    OrderIntent,
    OrderRecord,
    OrderState,
    SettlementRecord,
    TimeInForce,
)
from engine.store.base import StoreError

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

REQUIRED_AUDIT_FIELDS: Mapping[AuditKind, tuple[str, ...]] = {
    AuditKind.ORDER: ("client_order_id", "side", "action", "count", "limit_price", "mode"),
    AuditKind.ORDER_STATE: ("client_order_id", "state"),
    AuditKind.DECISION: ("allowed", "rule", "detail"),
    AuditKind.FILL: ("client_order_id", "count", "price", "fee"),
}
"""What an operator reading ``arbtui audit --json`` can rely on per kind; other kinds carry what they carry."""

ORDER_COLUMNS = (
    "client_order_id",
    "ticker",
    "event_ticker",
    "league",
    "side",
    "action",
    "count",
    "limit_price",
    "time_in_force",
    "mode",
    "created_at",
    "signal_key",
    "attempt",
    "group_id",
    "exchange_index",
    "reduce_only",
    "state",
    "updated_at",
    "exchange_order_id",
    "filled_count",
    "filled_cost",
    "fees",
    "reason",
)
ORDER_STATE_COLUMNS = ("state", "updated_at", "exchange_order_id", "filled_count", "filled_cost", "fees", "reason")
FILL_COLUMNS = (
    "fill_id",
    "client_order_id",
    "ticker",
    "side",
    "action",
    "count",
    "price",
    "fee",
    "ts",
    "mode",
    "is_taker",
)
SETTLEMENT_COLUMNS = ("ticker", "event_ticker", "value", "ts", "revenue")


def format_ts(ts: datetime, what: str = "timestamp") -> str:
    """Fixed-width UTC text; a naive datetime is refused (its zone is a guess the store will not make)."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise StoreError(f"{what} {ts.isoformat()} has no time zone; the store keeps only aware timestamps")
    return ts.astimezone(UTC).strftime(_TS_FORMAT)


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)


def _dec(value: Decimal, what: str) -> str:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise StoreError(f"{what} must be a finite Decimal (got {value!r})")
    return str(value)


def _price(value: Decimal, what: str) -> str:
    text = _dec(value, what)
    if not Decimal(0) <= value <= Decimal(1):
        raise StoreError(f"{what} {text} is outside 0..1 dollars per contract")
    return text


def _count(value: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise StoreError(f"{what} must be a non-negative integer (got {value!r})")
    return value


def intent_columns(intent: OrderIntent) -> tuple[Any, ...]:
    """The first 16 of :data:`ORDER_COLUMNS`: the part of an order that never changes."""
    if not intent.client_order_id:
        raise StoreError("order intent has an empty client_order_id")
    if intent.count <= 0:
        raise StoreError(f"order {intent.client_order_id}: count must be positive (got {intent.count!r})")
    cid = intent.client_order_id
    return (
        cid,
        intent.ticker,
        intent.event_ticker,
        intent.league,
        intent.side.value,
        intent.action.value,
        _count(intent.count, f"order {cid} count"),
        _price(intent.limit_price, f"order {cid} limit_price"),
        intent.time_in_force.value,
        intent.mode.value,
        format_ts(intent.created_at, f"order {cid} created_at"),
        intent.signal_key,
        _count(intent.attempt, f"order {cid} attempt"),
        intent.group_id,
        _count(intent.exchange_index, f"order {cid} exchange_index"),
        int(intent.reduce_only),
    )


def state_columns(record: OrderRecord) -> tuple[Any, ...]:
    """:data:`ORDER_STATE_COLUMNS` of a record: what ``update_order`` replaces."""
    cid = record.client_order_id
    if record.filled_count > record.intent.count:
        raise StoreError(f"order {cid}: filled {record.filled_count} of {record.intent.count} contracts")
    return (
        record.state.value,
        format_ts(record.updated_at, f"order {cid} updated_at"),
        record.exchange_order_id,
        _count(record.filled_count, f"order {cid} filled_count"),
        _dec(record.filled_cost, f"order {cid} filled_cost"),
        _dec(record.fees, f"order {cid} fees"),
        record.reason,
    )


def order_from_row(row: Sequence[Any]) -> OrderRecord:
    try:
        intent = OrderIntent(
            client_order_id=row[0],
            ticker=row[1],
            event_ticker=row[2],
            league=row[3],
            side=Side(row[4]),
            action=Action(row[5]),
            count=int(row[6]),
            limit_price=Decimal(row[7]),
            time_in_force=TimeInForce(row[8]),
            mode=Mode(row[9]),
            created_at=parse_ts(row[10]),
            signal_key=row[11],
            attempt=int(row[12]),
            group_id=row[13],
            exchange_index=int(row[14]),
            reduce_only=bool(row[15]),
        )
        return OrderRecord(
            intent=intent,
            state=OrderState(row[16]),
            updated_at=parse_ts(row[17]),
            exchange_order_id=row[18],
            filled_count=int(row[19]),
            filled_cost=Decimal(row[20]),
            fees=Decimal(row[21]),
            reason=row[22],
        )
    except (ValueError, TypeError, InvalidOperation, IndexError) as exc:
        raise StoreError(f"stored order {row[0] if row else '?'} cannot be read: {exc}") from None


def fill_columns(fill: FillRecord) -> tuple[Any, ...]:
    if not fill.fill_id:
        raise StoreError(f"fill for order {fill.client_order_id} has an empty fill_id")
    what = f"fill {fill.fill_id}"
    if fill.count <= 0:
        raise StoreError(f"{what}: count must be positive (got {fill.count!r})")
    return (
        fill.fill_id,
        fill.client_order_id,
        fill.ticker,
        fill.side.value,
        fill.action.value,
        _count(fill.count, f"{what} count"),
        _price(fill.price, f"{what} price"),
        _dec(fill.fee, f"{what} fee"),
        format_ts(fill.ts, f"{what} ts"),
        fill.mode.value,
        int(fill.is_taker),
    )


def fill_from_row(row: Sequence[Any]) -> FillRecord:
    try:
        return FillRecord(
            fill_id=row[0],
            client_order_id=row[1],
            ticker=row[2],
            side=Side(row[3]),
            action=Action(row[4]),
            count=int(row[5]),
            price=Decimal(row[6]),
            fee=Decimal(row[7]),
            ts=parse_ts(row[8]),
            mode=Mode(row[9]),
            is_taker=bool(row[10]),
        )
    except (ValueError, TypeError, InvalidOperation, IndexError) as exc:
        raise StoreError(f"stored fill {row[0] if row else '?'} cannot be read: {exc}") from None


def settlement_columns(settlement: SettlementRecord) -> tuple[Any, ...]:
    what = f"settlement of {settlement.ticker}"
    if not settlement.ticker:
        raise StoreError("settlement has an empty ticker")
    return (
        settlement.ticker,
        settlement.event_ticker,
        _price(settlement.value, f"{what} value"),
        format_ts(settlement.ts, f"{what} ts"),
        _dec(settlement.revenue, f"{what} revenue"),
    )


def settlement_from_row(row: Sequence[Any]) -> SettlementRecord:
    try:
        return SettlementRecord(
            ticker=row[0], event_ticker=row[1], value=Decimal(row[2]), ts=parse_ts(row[3]), revenue=Decimal(row[4])
        )
    except (ValueError, TypeError, InvalidOperation, IndexError) as exc:
        raise StoreError(f"stored settlement {row[0] if row else '?'} cannot be read: {exc}") from None


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON-ready")


def to_json(doc: Mapping[str, Any], what: str) -> str:
    """Compact JSON; Decimal and datetime become strings, anything else unknown is a :class:`StoreError`."""
    try:
        return json.dumps(doc, default=_json_default, allow_nan=False, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what} is not JSON-ready: {exc}") from None


def from_json(text: str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise StoreError(f"stored {what} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise StoreError(f"stored {what} is not a JSON object")
    return doc


def audit_columns(event: AuditEvent) -> tuple[str, str, str | None, str]:
    """``(ts, kind, ticker, data)``, refusing an event that lacks a field its kind requires."""
    kind = AuditKind(event.kind)
    missing = [name for name in REQUIRED_AUDIT_FIELDS.get(kind, ()) if name not in event.data]
    if missing:
        raise StoreError(f"audit event {kind.value} lacks {', '.join(missing)}")
    ts = format_ts(event.ts, f"audit event {kind.value} ts")
    return ts, kind.value, event.ticker, to_json(event.data, f"audit event {kind.value} data")


def audit_from_row(row: Sequence[Any]) -> AuditEvent:
    try:
        kind = AuditKind(row[1])
        ts = parse_ts(row[0])
    except ValueError as exc:
        raise StoreError(f"stored audit event cannot be read: {exc}") from None
    return AuditEvent(ts=ts, kind=kind, ticker=row[2], data=from_json(row[3], f"audit event {kind.value}"))


def order_event(intent: OrderIntent) -> AuditEvent:
    return AuditEvent(
        ts=intent.created_at,
        kind=AuditKind.ORDER,
        ticker=intent.ticker,
        data={
            "client_order_id": intent.client_order_id,
            "event_ticker": intent.event_ticker,
            "league": intent.league,
            "side": intent.side.value,
            "action": intent.action.value,
            "count": intent.count,
            "limit_price": str(intent.limit_price),
            "time_in_force": intent.time_in_force.value,
            "mode": intent.mode.value,
            "signal_key": intent.signal_key,
            "attempt": intent.attempt,
            "group_id": intent.group_id,
            "exchange_index": intent.exchange_index,
            "reduce_only": intent.reduce_only,
        },
    )


def order_state_event(record: OrderRecord, previous: OrderState) -> AuditEvent:
    return AuditEvent(
        ts=record.updated_at,
        kind=AuditKind.ORDER_STATE,
        ticker=record.intent.ticker,
        data={
            "client_order_id": record.client_order_id,
            "state": record.state.value,
            "previous": previous.value,
            "exchange_order_id": record.exchange_order_id,
            "filled_count": record.filled_count,
            "filled_cost": str(record.filled_cost),
            "fees": str(record.fees),
            "reason": record.reason,
            "mode": record.intent.mode.value,
        },
    )


def fill_event(fill: FillRecord) -> AuditEvent:
    return AuditEvent(
        ts=fill.ts,
        kind=AuditKind.FILL,
        ticker=fill.ticker,
        data={
            "client_order_id": fill.client_order_id,
            "fill_id": fill.fill_id,
            "side": fill.side.value,
            "action": fill.action.value,
            "count": fill.count,
            "price": str(fill.price),
            "fee": str(fill.fee),
            "mode": fill.mode.value,
            "is_taker": fill.is_taker,
        },
    )


def settlement_event(settlement: SettlementRecord) -> AuditEvent:
    return AuditEvent(
        ts=settlement.ts,
        kind=AuditKind.SETTLEMENT,
        ticker=settlement.ticker,
        data={
            "event_ticker": settlement.event_ticker,
            "value": str(settlement.value),
            "revenue": str(settlement.revenue),
        },
    )


def profile_event(name: str, overrides: Mapping[str, Any], ts: datetime) -> AuditEvent:
    return AuditEvent(ts=ts, kind=AuditKind.PROFILE, data={"profile": name, "overrides": dict(overrides)})
