"""The order state machine: which state may follow which, and the record each step produces.

Pure: every function takes the current :class:`OrderRecord` and ``now`` and returns a new record, or
raises :class:`OrderStateError` for a step the lifecycle does not allow (a filled order cannot be
re-sent, a cancelled one cannot fill more than the exchange says). Keeping the table in one place is
what lets the store, the executors and recovery agree on what an order can still do.

NEW -> SENT -> ACKED -> PARTIAL -> FILLED / CANCELLED / REJECTED / EXPIRED, and UNKNOWN from SENT or
ACKED when the outcome of a write is uncertain; UNKNOWN leaves only by resolution against the exchange.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from engine.errors import ArbError
from engine.execution.model import FillRecord, OrderRecord, OrderState

S = OrderState

ALLOWED: dict[OrderState, frozenset[OrderState]] = {
    S.NEW: frozenset({S.SENT, S.REJECTED, S.CANCELLED, S.UNKNOWN}),
    S.SENT: frozenset({S.ACKED, S.PARTIAL, S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED, S.UNKNOWN}),
    S.ACKED: frozenset({S.PARTIAL, S.FILLED, S.CANCELLED, S.EXPIRED, S.UNKNOWN}),
    S.PARTIAL: frozenset({S.PARTIAL, S.FILLED, S.CANCELLED, S.EXPIRED, S.UNKNOWN}),
    S.UNKNOWN: frozenset({S.ACKED, S.PARTIAL, S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}
"""NEW -> UNKNOWN covers a crash after the intent was committed but before SENT was: the send may have
happened, so only the exchange can tell. NEW -> CANCELLED is an order withdrawn before it left."""


class OrderStateError(ArbError):
    """A transition the order lifecycle forbids; the message names the order and both states."""


def can_move(current: OrderState, target: OrderState) -> bool:
    return target in ALLOWED[current]


def move(record: OrderRecord, target: OrderState, now: datetime, *, reason: str = "") -> OrderRecord:
    """``record`` in ``target`` state; the same record when it is already there (a repeated message)."""
    if record.state is target and target is not S.PARTIAL:
        return record
    if not can_move(record.state, target):
        raise OrderStateError(f"order {record.client_order_id}: {record.state.value} -> {target.value} is not allowed")
    return replace(record, state=target, updated_at=now, reason=reason or record.reason)


def sent(record: OrderRecord, now: datetime) -> OrderRecord:
    return move(record, S.SENT, now)


def acked(record: OrderRecord, exchange_order_id: str, now: datetime) -> OrderRecord:
    """The exchange holds the order. Its fills arrive as :func:`apply_fill`, so a record never counts a
    contract twice (once from the acknowledgement, once from the fill)."""
    if record.exchange_order_id not in (None, exchange_order_id):
        raise OrderStateError(
            f"order {record.client_order_id}: acknowledged as {exchange_order_id} but known as "
            f"{record.exchange_order_id}"
        )
    out = replace(record, exchange_order_id=exchange_order_id)
    if out.state in (S.SENT, S.UNKNOWN, S.NEW):
        if out.state is S.NEW:
            out = move(out, S.SENT, now)
        target = S.ACKED if out.filled_count == 0 else (S.FILLED if out.remaining == 0 else S.PARTIAL)
        out = move(out, target, now)
    return out


def apply_fill(record: OrderRecord, fill: FillRecord, now: datetime) -> OrderRecord:
    """Add one fill's count, cost and fee; PARTIAL or FILLED by what remains. A fill may land on a
    terminal order only when the exchange reported the terminal state first (an IOC's cancel of the
    remainder can overtake its fills), and never beyond the order's size."""
    if fill.client_order_id != record.client_order_id:
        raise OrderStateError(f"fill {fill.fill_id} belongs to {fill.client_order_id}, not {record.client_order_id}")
    if fill.count <= 0:
        raise OrderStateError(f"fill {fill.fill_id}: count must be positive, got {fill.count}")
    if record.state is S.FILLED:
        raise OrderStateError(f"order {record.client_order_id}: fill {fill.fill_id} after it was filled")
    if record.state in (S.NEW, S.REJECTED):
        raise OrderStateError(f"order {record.client_order_id}: fill {fill.fill_id} on a {record.state.value} order")
    filled = record.filled_count + fill.count
    if filled > record.intent.count:
        raise OrderStateError(
            f"order {record.client_order_id}: fill {fill.fill_id} makes {filled} filled of {record.intent.count}"
        )
    out = replace(
        record,
        filled_count=filled,
        filled_cost=record.filled_cost + fill.price * fill.count,
        fees=record.fees + fill.fee,
        updated_at=now,
    )
    if record.state.terminal:
        return out  # cancelled/expired remainder reported before this fill of the filled part
    target = S.FILLED if out.remaining == 0 else S.PARTIAL
    return move(out, target, now)


def close(record: OrderRecord, target: OrderState, now: datetime, *, reason: str = "") -> OrderRecord:
    """End an order that will fill no further (cancelled, rejected, expired), or FILLED when its fills
    already cover it."""
    if not target.terminal:
        raise OrderStateError(f"order {record.client_order_id}: {target.value} is not a final state")
    if record.remaining == 0 and record.filled_count > 0:
        target = S.FILLED
    if target is S.REJECTED and record.filled_count > 0:
        raise OrderStateError(f"order {record.client_order_id}: rejected after {record.filled_count} filled")
    return move(record, target, now, reason=reason)


def average_price(record: OrderRecord) -> Decimal | None:
    if record.filled_count == 0:
        return None
    return record.filled_cost / record.filled_count
