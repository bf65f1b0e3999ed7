"""Live orders on Kalshi: V2 ``POST /portfolio/events/orders`` at the signal's limit, IOC by default, inside
the order group of the market's shard; fills read back over REST, ``fill`` / ``user_orders`` WebSocket
messages turned into the same records.

The executor never re-sends an order on its own account: :class:`KalshiRestClient` already resolves an
uncertain create by ``client_order_id`` before trying again, and what it cannot resolve comes back here as
UNKNOWN for the order manager to block the market on until :meth:`LiveExecutor.resolve` settles it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from engine.connectors.errors import (
    ApiError,
    ConflictError,
    OrderOutcomeUnknownError,
    TransportError,
)
from engine.connectors.kalshi.messages import FillUpdate
from engine.connectors.kalshi.models import BookSide, Fill, Order, OrderRequest
from engine.connectors.kalshi.models import TimeInForce as KalshiTif
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.detection.signals import Side
from engine.execution.executor import Execution
from engine.execution.groups import OrderGroups
from engine.execution.model import Action, FillRecord, Mode, OrderIntent, OrderRecord, OrderState, TimeInForce
from engine.money import ONE

log = logging.getLogger(__name__)

_TIF = {
    TimeInForce.IOC: KalshiTif.IMMEDIATE_OR_CANCEL,
    TimeInForce.FOK: KalshiTif.FILL_OR_KILL,
    TimeInForce.GTC: KalshiTif.GOOD_TILL_CANCELED,
}
IN_FLIGHT_GRACE = timedelta(seconds=30)
"""An order sent less than this long ago and not (yet) listed by the exchange may still be in flight: it
stays UNKNOWN rather than being declared never placed."""
FILL_READS = 3


def book_side(intent: OrderIntent) -> BookSide:
    """V2 direction on the YES leg (order_direction.md): buying YES or selling NO is a bid."""
    buys_yes = (intent.side is Side.YES) is (intent.action is Action.BUY)
    return BookSide.BID if buys_yes else BookSide.ASK


def wire_price(intent: OrderIntent) -> Decimal:
    """The YES price sent: the limit itself for a YES order, its complement for a NO order."""
    return intent.limit_price if intent.side is Side.YES else ONE - intent.limit_price


def order_request(intent: OrderIntent, order_group_id: str | None) -> OrderRequest:
    return OrderRequest(
        ticker=intent.ticker,
        side=book_side(intent),
        count=Decimal(intent.count),
        price=wire_price(intent),
        client_order_id=intent.client_order_id,
        time_in_force=_TIF[intent.time_in_force],
        reduce_only=intent.reduce_only,
        order_group_id=order_group_id,
    )


def own_price(side: Side, yes_price: Decimal) -> Decimal:
    return yes_price if side is Side.YES else ONE - yes_price


def _whole(count: Decimal, what: str) -> int:
    if count != count.to_integral_value():
        raise ValueError(f"{what}: fractional contract count {count} on a whole-contract order")
    return int(count)


def fill_record(intent: OrderIntent, fill: Fill, fallback_ts: datetime) -> FillRecord:
    """One exchange fill of ``intent`` as our record: the price is what ``intent.side`` traded at."""
    return FillRecord(
        fill_id=fill.fill_id,
        client_order_id=intent.client_order_id,
        ticker=fill.ticker or intent.ticker,
        side=intent.side,
        action=intent.action,
        count=_whole(fill.count, f"fill {fill.fill_id}"),
        price=own_price(intent.side, fill.yes_price),
        fee=fill.fee_cost,
        ts=fill.created_time or fallback_ts,
        mode=Mode.LIVE,
        is_taker=fill.is_taker,
    )


def ws_fill_record(intent: OrderIntent, msg: FillUpdate, fallback_ts: datetime) -> FillRecord | None:
    """A ``fill`` channel message as our record, or None when it lacks the fee (then only the REST fill,
    which always carries it, is trusted)."""
    if msg.fee_cost is None:
        return None
    ts = fallback_ts if msg.ts_ms is None else datetime.fromtimestamp(msg.ts_ms / 1000, tz=fallback_ts.tzinfo)
    return FillRecord(
        fill_id=msg.trade_id,
        client_order_id=intent.client_order_id,
        ticker=msg.ticker,
        side=intent.side,
        action=intent.action,
        count=_whole(msg.count, f"fill {msg.trade_id}"),
        price=own_price(intent.side, msg.yes_price),
        fee=msg.fee_cost,
        ts=ts,
        mode=Mode.LIVE,
        is_taker=msg.is_taker,
    )


def state_of(status: str, initial: int, filled: int, remaining: Decimal) -> OrderState:
    """Kalshi's ``resting`` / ``canceled`` / ``executed`` with counts as one of our states."""
    if status == "resting" and remaining > 0:
        return OrderState.ACKED
    if filled >= initial:
        return OrderState.FILLED
    return OrderState.CANCELLED


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(slots=True)
class LiveExecutor:
    """Sends through ``rest``; ``groups`` supplies each shard's order group (None: no group, tests only)."""

    rest: KalshiRestClient
    groups: OrderGroups | None
    now: Callable[[], datetime]
    sleep: Callable[[float], Awaitable[None]] = field(default=_sleep)
    mode: Mode = Mode.LIVE

    async def execute(self, intent: OrderIntent) -> Execution:
        cid = intent.client_order_id
        try:
            group = None if self.groups is None else await self.groups.group_for(intent.exchange_index)
        except (ApiError, TransportError) as exc:
            return Execution(cid, OrderState.REJECTED, reason=f"no order group on shard {intent.exchange_index}: {exc}")
        try:
            request = order_request(intent, group)
        except ValueError as exc:
            return Execution(cid, OrderState.REJECTED, reason=str(exc))
        try:
            ack = await self.rest.create_order(request)
        except OrderOutcomeUnknownError as exc:
            return Execution(cid, OrderState.UNKNOWN, reason=exc.reason)
        except ConflictError:
            # the exchange already holds this client_order_id: an earlier send of ours (before a restart)
            return await self._lookup(intent, self.now())
        except ApiError as exc:
            return Execution(cid, OrderState.REJECTED, reason=str(exc))
        except TransportError as exc:
            if exc.maybe_delivered:
                return Execution(cid, OrderState.UNKNOWN, reason=str(exc))
            return Execution(cid, OrderState.REJECTED, reason=f"not sent: {exc}")
        filled = _whole(ack.fill_count, f"order {ack.order_id}")
        remaining = ack.remaining_count
        fills = await self._fills(intent, ack.order_id, filled)
        state = OrderState.ACKED if remaining > 0 else state_of("", intent.count, filled, remaining)
        return Execution(cid, state, ack.order_id, fills)

    async def _fills(self, intent: OrderIntent, order_id: str, expected: int) -> tuple[FillRecord, ...]:
        """The order's fills over REST; read again (briefly) while they sum to less than the exchange said."""
        fills: tuple[FillRecord, ...] = ()
        for attempt in range(FILL_READS):
            if expected == 0:
                return ()
            try:
                raw = await self.rest.fills(order_id=order_id)
                # listed newest first; oldest first here, so fills of one instant keep their execution order
                fills = tuple(sorted((fill_record(intent, f, self.now()) for f in reversed(raw)), key=lambda f: f.ts))
            except (ApiError, TransportError, ValueError) as exc:
                log.warning("fills of order %s not read: %s", order_id, exc)
            if sum(f.count for f in fills) >= expected:
                return fills
            await self.sleep(0.05 * (attempt + 1))
        log.warning("order %s: %d contracts filled but only %d fills listed yet", order_id, expected, len(fills))
        return fills

    async def _lookup(self, intent: OrderIntent, now: datetime) -> Execution:
        cid = intent.client_order_id
        min_ts = int((intent.created_at - IN_FLIGHT_GRACE).timestamp())
        try:
            order = await self.rest.find_order_by_client_id(intent.ticker, cid, min_ts=min_ts)
        except (ApiError, TransportError) as exc:
            return Execution(cid, OrderState.UNKNOWN, reason=f"lookup failed: {exc}")
        if order is None:
            if now - intent.created_at < IN_FLIGHT_GRACE:
                return Execution(cid, OrderState.UNKNOWN, reason="not listed by the exchange yet; may be in flight")
            return Execution(cid, OrderState.REJECTED, reason="the exchange has no order with this client_order_id")
        return await self._from_order(intent, order)

    async def _from_order(self, intent: OrderIntent, order: Order) -> Execution:
        filled = _whole(order.fill_count, f"order {order.order_id}")
        fills = await self._fills(intent, order.order_id, filled)
        state = state_of(order.status, intent.count, filled, order.remaining_count)
        return Execution(intent.client_order_id, state, order.order_id, fills)

    async def resolve(self, record: OrderRecord) -> Execution:
        if record.exchange_order_id is not None:
            try:
                order = await self.rest.get_order(record.exchange_order_id)
            except (ApiError, TransportError) as exc:
                return Execution(record.client_order_id, OrderState.UNKNOWN, reason=f"lookup failed: {exc}")
            return await self._from_order(record.intent, order)
        return await self._lookup(record.intent, self.now())

    async def cancel(self, record: OrderRecord) -> Execution:
        if record.exchange_order_id is None:
            return await self.resolve(record)
        try:
            await self.rest.cancel_order(record.exchange_order_id, record.intent.ticker)
        except (ApiError, TransportError) as exc:
            log.warning("cancel of %s failed: %s", record.client_order_id, exc)
        return await self.resolve(record)


def fills_of(intent: OrderIntent, raw: Iterable[Fill], now: datetime) -> tuple[FillRecord, ...]:
    return tuple(fill_record(intent, f, now) for f in raw)
