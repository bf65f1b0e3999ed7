"""Kalshi WebSocket message bodies built from the simulator's state (channel payloads, no envelope)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from engine.money import ONE, ZERO
from engine.sim.book import NO, YES
from engine.sim.exchange import Exchange, MarketState
from engine.sim.payloads import dollars, fp, iso, order_amounts, orderbook_json
from engine.sim.records import BookChange, Fill, Order, OrderGroupChange, Trade

_NAMESPACE = uuid.UUID("6f1c2b1e-6a43-4b59-9d0e-3f5d6c7a8b90")


@lru_cache(maxsize=4096)
def market_id(ticker: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, ticker))


def stamps(now: datetime) -> dict[str, Any]:
    return {"ts": int(now.timestamp()), "ts_ms": int(now.timestamp() * 1000)}


def snapshot_msg(state: MarketState, *, yes_price: bool = False) -> dict[str, Any]:
    """``yes_price`` (the subscription's ``use_yes_price``) reports NO levels in yes-leg pricing, 1 - p."""
    book = orderbook_json(state.book)
    no_levels = book["no_dollars"]
    if yes_price:
        no_levels = [[dollars(ONE - Decimal(p)), c] for p, c in reversed(no_levels)]
    msg: dict[str, Any] = {"market_ticker": state.ticker, "market_id": market_id(state.ticker)}
    # orderbook-updates.md: a side's key "will not exist if there are no ... offers"
    if book["yes_dollars"]:
        msg["yes_dollars_fp"] = book["yes_dollars"]
    if no_levels:
        msg["no_dollars_fp"] = no_levels
    return msg


def delta_msg(change: BookChange, now: datetime) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "market_ticker": change.ticker,
        "market_id": market_id(change.ticker),
        "price_dollars": dollars(change.price),
        "delta_fp": fp(change.delta),
        "side": change.side,
        "ts": iso(now),
        "ts_ms": int(now.timestamp() * 1000),
    }
    if change.client_order_id:
        msg["client_order_id"] = change.client_order_id
    return msg


def ticker_msg(exchange: Exchange, ticker: str, now: datetime) -> dict[str, Any]:
    state = exchange.markets[ticker]
    book = state.book
    yes_bid = book.best_price(YES)
    no_bid = book.best_price(NO)
    last_size = ZERO
    for trade in reversed(exchange.trades):
        if trade.ticker == ticker:
            last_size = trade.count
            break
    return {
        "market_ticker": ticker,
        "market_id": market_id(ticker),
        "price_dollars": dollars(state.last_price),
        "yes_bid_dollars": dollars(yes_bid if yes_bid is not None else ZERO),
        "yes_ask_dollars": dollars(ONE - no_bid if no_bid is not None else ONE),
        "volume_fp": fp(state.volume),
        "open_interest_fp": fp(state.open_interest),
        "dollar_volume": int(state.volume * state.last_price),
        "dollar_open_interest": int(state.open_interest * state.last_price),
        "yes_bid_size_fp": fp(book.level_total(YES, yes_bid) if yes_bid is not None else ZERO),
        "yes_ask_size_fp": fp(book.level_total(NO, no_bid) if no_bid is not None else ZERO),
        "last_trade_size_fp": fp(last_size),
        **stamps(now),
        "time": iso(now),
    }


def trade_msg(trade: Trade) -> dict[str, Any]:
    return {
        "trade_id": trade.trade_id,
        "market_ticker": trade.ticker,
        "yes_price_dollars": dollars(trade.yes_price),
        "no_price_dollars": dollars(ONE - trade.yes_price),
        "count_fp": fp(trade.count),
        "taker_side": trade.taker_side,
        "taker_outcome_side": trade.taker_side,
        "taker_book_side": "bid" if trade.taker_side == "yes" else "ask",
        "is_block_trade": False,
        **stamps(trade.created),
    }


def fill_msg(fill: Fill, exchange_index: int = 0) -> dict[str, Any]:
    return {
        "trade_id": fill.fill_id,
        "order_id": fill.order_id,
        "client_order_id": fill.client_order_id,
        "market_ticker": fill.ticker,
        "exchange_index": exchange_index,
        "is_taker": fill.is_taker,
        "side": fill.outcome_side,
        "yes_price_dollars": dollars(fill.yes_price),
        "count_fp": fp(fill.count),
        "fee_cost": dollars(fill.fee),
        "action": "buy",
        "outcome_side": fill.outcome_side,
        "book_side": fill.book_side,
        **stamps(fill.created),
        "post_position_fp": fp(fill.post_position),
        "purchased_side": fill.outcome_side,
        "subaccount": 0,
    }


def position_msg(exchange: Exchange, ticker: str) -> dict[str, Any]:
    pos = exchange.positions[ticker]
    return {
        "user_id": "sim-user",
        "market_ticker": ticker,
        "position_fp": fp(pos.position),
        "position_cost_dollars": dollars(pos.exposure),
        "realized_pnl_dollars": dollars(pos.realized_pnl),
        "fees_paid_dollars": dollars(pos.fees_paid),
        "position_fee_cost_dollars": dollars(pos.fees_paid),
        "volume_fp": fp(sum((f.count for f in exchange.fills if f.ticker == ticker), ZERO)),
    }


def user_order_msg(order: Order) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "order_id": order.order_id,
        "user_id": "sim-user",
        "ticker": order.ticker,
        "status": order.status,
        "side": order.outcome_side,
        "is_yes": order.outcome_side == "yes",
        "outcome_side": order.outcome_side,
        "book_side": order.book_side,
        **order_amounts(order),
        "client_order_id": order.client_order_id,
        "self_trade_prevention_type": order.self_trade_prevention,
        "created_time": iso(order.created),
        "created_ts_ms": int(order.created.timestamp() * 1000),
        "last_update_time": iso(order.updated),
        "last_updated_ts_ms": int(order.updated.timestamp() * 1000),
        "subaccount_number": 0,
    }
    if order.order_group_id:
        msg["order_group_id"] = order.order_group_id
    if order.expiration_ts is not None:
        msg["expiration_time"] = iso(datetime.fromtimestamp(order.expiration_ts, tz=UTC))
        msg["expiration_ts_ms"] = order.expiration_ts * 1000
    return msg


def lifecycle_msgs(state: MarketState, now: datetime) -> list[dict[str, Any]]:
    """The ``market_lifecycle_v2`` bodies for a market that just changed status: a finalized market is first
    ``determined`` (result, settlement value) and then ``settled``; any other non-active status pauses it."""
    base = {"market_ticker": state.ticker}
    if state.status == "finalized":
        settled = state.settled or now
        determined: dict[str, Any] = {**base, "event_type": "determined", "determination_ts": int(settled.timestamp())}
        if state.result:
            determined["result"] = state.result
        if state.settlement_value is not None:
            determined["settlement_value"] = dollars(state.settlement_value)
        return [determined, {**base, "event_type": "settled", "settled_ts": int(settled.timestamp())}]
    paused = state.status != "active"
    return [{**base, "event_type": "deactivated" if paused else "activated", "is_deactivated": paused}]


def order_group_msg(change: OrderGroupChange, now: datetime) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "event_type": change.event_type,
        "order_group_id": change.group_id,
        "ts_ms": int(now.timestamp() * 1000),
    }
    if change.contracts_limit is not None:
        msg["contracts_limit_fp"] = fp(change.contracts_limit)
    return msg
