"""Portfolio and order routes of the Kalshi-compatible server (all signed).

Orders follow Create Order (V2): ``POST /portfolio/events/orders`` with ``side`` bid/ask on the YES book,
``count`` and ``price`` as fixed-point strings, a required ``time_in_force`` and
``self_trade_prevention_type``. Every malformed field is a 400 naming the field; nothing is placed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from engine.money import CENT, ONE, ZERO, parse_count, parse_price
from engine.sim.context import CTX, SimContext
from engine.sim.exchange import OrderRejected
from engine.sim.http_common import error, paged_json, query_int
from engine.sim.payloads import (
    balance_json,
    event_positions_json,
    fill_json,
    fp,
    order_group_json,
    order_group_list_json,
    order_json,
    position_json,
    settlement_json,
)
from engine.sim.records import ASK, BID, TIME_IN_FORCE, Position

STP_TYPES = ("taker_at_cross", "maker")
PRICE_STEP = CENT
WRITE_COST = 10
CANCEL_COST = 2


class BadOrder(Exception):
    """A create-order body the exchange refuses; the message names the field."""


def _ctx(request: web.Request) -> SimContext:
    """The shared state, with good-till-time orders past their expiration cancelled first."""
    ctx = request.app[CTX]
    ctx.exchange.expire_orders(ctx.now())
    return ctx


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadOrder("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadOrder("body must be a JSON object")
    return body


def _fixed(body: dict[str, Any], name: str, places: int) -> Decimal:
    raw = body.get(name)
    if not isinstance(raw, str):
        raise BadOrder(f"{name} must be a fixed-point string, got {type(raw).__name__}")
    try:
        value = parse_price(raw) if name == "price" else parse_count(raw)
    except ValueError as exc:
        raise BadOrder(f"{name}: {exc}") from None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise BadOrder(f"{name} accepts at most {places} decimal places, got {raw!r}")
    return value


def parse_create_order(body: dict[str, Any]) -> dict[str, Any]:
    ticker = body.get("ticker")
    if not isinstance(ticker, str) or not ticker:
        raise BadOrder("ticker is required")
    side = body.get("side")
    if side not in (BID, ASK):
        raise BadOrder(f"side must be bid or ask, got {side!r}")
    count = _fixed(body, "count", 2)
    if count <= ZERO:
        raise BadOrder("count must be positive")
    price = _fixed(body, "price", 4)
    if price <= ZERO or price >= ONE or price % PRICE_STEP != ZERO:
        raise BadOrder(f"price {body['price']!r} is not a valid level (0.01 to 0.99 in steps of 0.01)")
    tif = body.get("time_in_force")
    if tif not in TIME_IN_FORCE:
        raise BadOrder(f"time_in_force must be one of {', '.join(TIME_IN_FORCE)}, got {tif!r}")
    stp = body.get("self_trade_prevention_type")
    if stp not in STP_TYPES:
        raise BadOrder(f"self_trade_prevention_type must be taker_at_cross or maker, got {stp!r}")
    post_only = body.get("post_only", False)
    if not isinstance(post_only, bool):
        raise BadOrder("post_only must be a boolean")
    expiration = body.get("expiration_time")
    if expiration is not None and (isinstance(expiration, bool) or not isinstance(expiration, int)):
        raise BadOrder("expiration_time must be integer unix seconds")
    if expiration is not None and tif == "immediate_or_cancel":
        raise BadOrder("immediate_or_cancel cannot be combined with expiration_time")
    client_order_id = body.get("client_order_id", "")
    group = body.get("order_group_id", "")
    if not isinstance(client_order_id, str) or not isinstance(group, str):
        raise BadOrder("client_order_id and order_group_id must be strings")
    return {
        "ticker": ticker,
        "book_side": side,
        "price": price,
        "count": count,
        "time_in_force": tif,
        "post_only": post_only,
        "self_trade_prevention": stp,
        "client_order_id": client_order_id,
        "order_group_id": group,
        "expiration_ts": expiration,
    }


def _ts_window(request: web.Request) -> Callable[[datetime], bool]:
    """``min_ts`` / ``max_ts`` (unix seconds) as a predicate on a record's time."""
    lo = query_int(request, "min_ts", 0, 0, 1 << 40)
    hi = query_int(request, "max_ts", 1 << 40, 0, 1 << 40)
    return lambda moment: lo <= moment.timestamp() <= hi


async def create_order(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    try:
        fields = parse_create_order(await _json_body(request))
    except BadOrder as exc:
        return error(400, "invalid_parameters", str(exc))
    now = ctx.now()
    try:
        order = ctx.exchange.place_order(**fields, now=now)
    except OrderRejected as exc:
        return error(exc.status, exc.code, str(exc))
    delay = ctx.faults.take_ack_delay()
    if delay > 0:
        await asyncio.sleep(delay)
    if ctx.faults.take_reset_after_order() and request.transport is not None:
        request.transport.abort()  # the order stands; the client never learns its outcome
        return web.Response(status=201)
    body: dict[str, Any] = {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "fill_count": fp(order.filled),
        "remaining_count": fp(order.remaining),
        "ts_ms": int(now.timestamp() * 1000),
    }
    if order.filled > ZERO:
        cost = order.taker_cost + order.maker_cost
        fees = order.taker_fees + order.maker_fees
        own_avg = cost / order.filled
        yes_avg = own_avg if order.book_side == BID else ONE - own_avg
        body["average_fill_price"] = f"{yes_avg:.6f}"
        body["average_fee_paid"] = f"{fees / order.filled:.6f}"
    return web.json_response(body, status=201)


def _routed_index(ctx: SimContext, exchange_index: object, market_ticker: object) -> int:
    """The shard a V2 cancel reaches (exchange_sharding.md): ``exchange_index`` when >= 0, else the market
    ticker's shard when one is given, else shard 0."""
    if isinstance(exchange_index, int) and exchange_index >= 0:
        return exchange_index
    known = isinstance(market_ticker, str) and market_ticker in ctx.exchange.markets
    return ctx.exchange.shard_of(market_ticker) if known and isinstance(market_ticker, str) else 0


def _on_shard(ctx: SimContext, order_id: object, shard: int) -> bool:
    order = ctx.exchange.orders.get(order_id) if isinstance(order_id, str) else None
    return order is not None and ctx.exchange.shard_of(order.ticker) == shard


async def cancel_order(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    order_id = request.match_info["order_id"]
    raw_index = request.query.get("exchange_index")
    index = int(raw_index) if raw_index is not None and raw_index.lstrip("-").isdigit() else None
    if not _on_shard(ctx, order_id, _routed_index(ctx, index, request.query.get("market_ticker"))):
        return error(404, "not_found", "order not found on this exchange shard")
    try:
        before = ctx.exchange.orders[order_id].remaining if order_id in ctx.exchange.orders else ZERO
        order = ctx.exchange.cancel_order(order_id, ctx.now())
    except OrderRejected as exc:
        return error(exc.status, exc.code, str(exc))
    if ctx.faults.take_misdescribed_cancel():
        others = [o for o in ctx.exchange.orders.values() if o.order_id != order.order_id]
        other = others[-1].order_id if others else "00000000-0000-0000-0000-000000000000"
        return web.json_response(
            {"order_id": other, "client_order_id": "", "reduced_by": "7.00", "ts_ms": ctx.now_ms()}
        )
    return web.json_response(
        {
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "reduced_by": fp(before - order.remaining),
            "ts_ms": ctx.now_ms(),
        }
    )


async def batch_cancel(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    try:
        body = await _json_body(request)
    except BadOrder as exc:
        return error(400, "invalid_parameters", str(exc))
    items = body.get("orders")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return error(400, "invalid_parameters", "orders must be a non-empty array of {order_id}")
    if ctx.config.rate_limits and not ctx.write_bucket.take(CANCEL_COST * len(items), ctx.monotonic()):
        return web.json_response({"error": "too many requests"}, status=429)
    out: list[dict[str, Any]] = []
    for item in items:
        order_id = item.get("order_id")
        shard = _routed_index(ctx, item.get("exchange_index"), item.get("market_ticker"))
        existing = ctx.exchange.orders.get(order_id) if _on_shard(ctx, order_id, shard) else None
        if existing is None:
            problem = {"code": "not_found", "message": "order not found", "details": ""}
            out.append(
                {
                    "order_id": str(order_id),
                    "client_order_id": None,
                    "reduced_by": "0.00",
                    "ts_ms": None,
                    "error": problem,
                }
            )
            continue
        before = existing.remaining
        order = ctx.exchange.cancel_order(existing.order_id, ctx.now())
        out.append(
            {
                "order_id": order.order_id,
                "client_order_id": order.client_order_id,
                "reduced_by": fp(before - order.remaining),
                "ts_ms": ctx.now_ms(),
            }
        )
    return web.json_response({"orders": out})


async def get_order(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    order = ctx.exchange.orders.get(request.match_info["order_id"])
    if order is None:
        return error(404, "not_found", "order not found")
    return web.json_response({"order": order_json(order, ctx.exchange.shard_of(order.ticker))})


async def list_orders(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    limit = query_int(request, "limit", 100, 1, 1000)
    ticker = request.query.get("ticker", "")
    status = request.query.get("status", "")
    events = {e for e in request.query.get("event_ticker", "").split(",") if e}
    window = _ts_window(request)
    orders = sorted(ctx.exchange.orders.values(), key=lambda o: o.created, reverse=True)
    orders = [
        o
        for o in orders
        if (not ticker or o.ticker == ticker)
        and (not status or o.status == status)
        and (not events or ctx.exchange.markets[o.ticker].game.event_ticker in events)
        and window(o.created)
    ]
    shard = ctx.exchange.shard_of
    return paged_json(request, orders, limit, lambda chunk: {"orders": [order_json(o, shard(o.ticker)) for o in chunk]})


async def get_balance(request: web.Request) -> web.Response:
    return web.json_response(balance_json(_ctx(request).exchange))


async def get_positions(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    limit = query_int(request, "limit", 100, 1, 1000)
    ticker = request.query.get("ticker", "")
    event = request.query.get("event_ticker", "")
    positions = [
        p
        for p in ctx.exchange.positions.values()
        if (not ticker or p.ticker == ticker) and (not event or p.event_ticker == event)
    ]
    wanted = [f for f in request.query.get("count_filter", "").split(",") if f]
    if any(f not in ("position", "total_traded") for f in wanted):
        return error(400, "invalid_parameters", "count_filter accepts position and total_traded")
    if wanted:  # get-positions.md: keep rows where any listed field is non-zero
        positions = [
            p
            for p in positions
            if ("position" in wanted and p.position != ZERO) or ("total_traded" in wanted and p.total_traded != ZERO)
        ]

    def body(chunk: list[Position]) -> dict[str, Any]:
        return {
            "market_positions": [position_json(p, ctx.exchange.shard_of(p.ticker)) for p in chunk],
            "event_positions": event_positions_json(chunk),
        }

    return paged_json(request, positions, limit, body)


async def get_fills(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    limit = query_int(request, "limit", 100, 1, 1000)
    ticker = request.query.get("ticker", "")
    order_id = request.query.get("order_id", "")
    window = _ts_window(request)
    fills = [
        f
        for f in reversed(ctx.exchange.fills)
        if (not ticker or f.ticker == ticker) and (not order_id or f.order_id == order_id) and window(f.created)
    ]
    shard = ctx.exchange.shard_of
    return paged_json(request, fills, limit, lambda chunk: {"fills": [fill_json(f, shard(f.ticker)) for f in chunk]})


async def get_settlements(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    limit = query_int(request, "limit", 100, 1, 1000)
    ticker = request.query.get("ticker", "")
    window = _ts_window(request)
    items = [s for s in reversed(ctx.exchange.settlements) if (not ticker or s.ticker == ticker) and window(s.settled)]
    shard = ctx.exchange.shard_of
    return paged_json(
        request, items, limit, lambda chunk: {"settlements": [settlement_json(s, shard(s.ticker)) for s in chunk]}
    )


async def create_order_group(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    try:
        body = await _json_body(request)
    except BadOrder as exc:
        return error(400, "invalid_parameters", str(exc))
    raw = body.get("contracts_limit_fp", body.get("contracts_limit"))
    try:
        limit = parse_count(str(raw)) if isinstance(raw, int | str) and not isinstance(raw, bool) else ZERO
    except ValueError:
        limit = ZERO
    if limit < ONE:
        return error(400, "invalid_parameters", "contracts_limit (or contracts_limit_fp) must be at least 1")
    index = body.get("exchange_index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        return error(400, "invalid_parameters", "exchange_index must be a non-negative integer")
    group = ctx.exchange.create_order_group(limit, index)
    return web.json_response(
        {"order_group_id": group.group_id, "subaccount": 0, "exchange_index": group.exchange_index}, status=201
    )


def _group_on_shard(ctx: SimContext, request: web.Request) -> bool:
    """The order-group routes reach the shard named by ``exchange_index`` (default 0) only."""
    group = ctx.exchange.order_groups.get(request.match_info["group_id"])
    return group is not None and group.exchange_index == query_int(request, "exchange_index", 0, 0, 1 << 16)


async def get_order_group(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    if not _group_on_shard(ctx, request):
        return error(404, "not_found", "order group not found")
    return web.json_response(order_group_json(ctx.exchange.order_groups[request.match_info["group_id"]]))


async def list_order_groups(request: web.Request) -> web.Response:
    groups = _ctx(request).exchange.order_groups.values()
    return web.json_response({"order_groups": [order_group_list_json(g) for g in groups]})


async def trigger_order_group(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    if not _group_on_shard(ctx, request):
        return error(404, "not_found", "order group not found")
    try:
        ctx.exchange.trigger_order_group(request.match_info["group_id"], ctx.now())
    except OrderRejected as exc:
        return error(exc.status, exc.code, str(exc))
    return web.json_response({})


async def reset_order_group(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    if not _group_on_shard(ctx, request):
        return error(404, "not_found", "order group not found")
    try:
        ctx.exchange.reset_order_group(request.match_info["group_id"])
    except OrderRejected as exc:
        return error(exc.status, exc.code, str(exc))
    return web.json_response({})


async def delete_order_group(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    if not _group_on_shard(ctx, request):
        return error(404, "not_found", "order group not found")
    try:
        ctx.exchange.delete_order_group(request.match_info["group_id"], ctx.now())
    except OrderRejected as exc:
        return error(exc.status, exc.code, str(exc))
    return web.json_response({})


def add_portfolio_routes(app: web.Application, api: str) -> None:
    r = app.router
    p = f"{api}/portfolio"
    r.add_get(f"{p}/balance", get_balance)
    r.add_get(f"{p}/positions", get_positions)
    r.add_get(f"{p}/fills", get_fills)
    r.add_get(f"{p}/settlements", get_settlements)
    r.add_get(f"{p}/orders", list_orders)
    r.add_get(f"{p}/orders/{{order_id}}", get_order)
    r.add_post(f"{p}/events/orders", create_order)
    r.add_delete(f"{p}/events/orders/batched", batch_cancel)
    r.add_delete(f"{p}/events/orders/{{order_id}}", cancel_order)
    r.add_delete(f"{p}/orders/{{order_id}}", cancel_order)
    r.add_post(f"{p}/order_groups/create", create_order_group)
    r.add_get(f"{p}/order_groups", list_order_groups)
    r.add_get(f"{p}/order_groups/{{group_id}}", get_order_group)
    r.add_put(f"{p}/order_groups/{{group_id}}/trigger", trigger_order_group)
    r.add_put(f"{p}/order_groups/{{group_id}}/reset", reset_order_group)
    r.add_delete(f"{p}/order_groups/{{group_id}}", delete_order_group)
