"""Kalshi REST payloads against the documented examples (api-reference/orders/*-v2.md, portfolio/get-balance.md)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.connectors.kalshi.models import (
    BookSide,
    OrderRequest,
    SelfTradePrevention,
    TimeInForce,
    parse_balance,
    parse_cancel,
    parse_order_ack,
)
from engine.errors import PayloadError


def test_order_body_has_the_documented_request_shape() -> None:
    """create-order-v2.md ``CreateOrderV2Request`` example, minus the fields we leave to the venue."""
    order = OrderRequest(
        "HIGHNY-24JAN01-T60",
        BookSide.BID,
        D(10),
        D("0.56"),
        "8c35ecb3-328f-4f52-8c7c-0f4b9862f8d1",
        TimeInForce.GOOD_TILL_CANCELED,
        SelfTradePrevention.TAKER_AT_CROSS,
        cancel_order_on_pause=False,
    )
    assert order.body() == {
        "ticker": "HIGHNY-24JAN01-T60",
        "client_order_id": "8c35ecb3-328f-4f52-8c7c-0f4b9862f8d1",
        "side": "bid",
        "count": "10.00",
        "price": "0.5600",
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
        "post_only": False,
        "cancel_order_on_pause": False,
        "reduce_only": False,
    }


def test_orders_are_cancelled_on_an_exchange_pause_by_default() -> None:
    order = OrderRequest("T", BookSide.BID, D(1), D("0.5"), "cid")
    assert order.body()["cancel_order_on_pause"] is True


def test_create_and_cancel_responses_parse_the_documented_examples() -> None:
    ack = parse_order_ack(
        {
            "order_id": "3b23c1c7-f4ef-4f0d-8b9a-9e53c61f1a0d",
            "client_order_id": "8c35ecb3-328f-4f52-8c7c-0f4b9862f8d1",
            "fill_count": "0.00",
            "remaining_count": "10.00",
            "ts_ms": 1715793600123,
        }
    )
    assert (ack.fill_count, ack.remaining_count, ack.ts_ms, ack.average_fill_price) == (
        D(0),
        D(10),
        1715793600123,
        None,
    )
    cancel = parse_cancel(
        {
            "order_id": "3b23c1c7-f4ef-4f0d-8b9a-9e53c61f1a0d",
            "client_order_id": "8c35ecb3-328f-4f52-8c7c-0f4b9862f8d1",
            "reduced_by": "10.00",
            "ts_ms": 1715793660456,
        }
    )
    assert (cancel.reduced_by, cancel.error) == (D(10), "")
    failed = parse_cancel(
        {"order_id": "x", "client_order_id": None, "reduced_by": "0.00", "ts_ms": None,
         "error": {"code": "not_found", "message": "order not found"}}
    )  # fmt: skip
    assert (failed.client_order_id, failed.error) == ("", "order not found")


def test_balance_breakdown_by_exchange_shard() -> None:
    balance = parse_balance(
        {
            "balance": 12345,
            "balance_dollars": "123.4500",
            "portfolio_value": 500,
            "updated_ts": 1715793600,
            "balance_breakdown": [
                {"exchange_index": 0, "balance": "100.0000"},
                {"exchange_index": 3, "balance": "23.4500"},
            ],
        }
    )
    assert balance.balance == D("123.45")
    assert (balance.on_exchange(0), balance.on_exchange(3), balance.on_exchange(2)) == (D(100), D("23.45"), D(0))
    assert parse_balance({"balance": 100, "portfolio_value": 0, "updated_ts": 1}).on_exchange(0) is None
    with pytest.raises(PayloadError) as info:
        parse_balance({"balance": 1, "balance_breakdown": [{"exchange_index": "3", "balance": "1.00"}]})
    assert info.value.field == "balance_breakdown[0].exchange_index"
