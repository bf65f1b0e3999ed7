"""Kalshi WebSocket channel messages as the 2026 docs give them (shared/reference/kalshi-docs/asyncapi.yaml and
websockets/*.md): each message's documented example, copied verbatim, and the ``msg`` fields its payload
schema marks required. The simulator's streams and the client's parsers are both held to these."""

from __future__ import annotations

from typing import Any

REQUIRED_MSG_FIELDS: dict[str, frozenset[str]] = {
    # asyncapi.yaml components.schemas.<message>Payload: msg.required
    "orderbook_snapshot": frozenset(
        [
            "market_ticker",
            "market_id",
        ]
    ),
    "orderbook_delta": frozenset(
        [
            "market_ticker",
            "market_id",
            "price_dollars",
            "delta_fp",
            "side",
        ]
    ),
    "ticker": frozenset(
        [
            "market_ticker",
            "market_id",
            "price_dollars",
            "yes_bid_dollars",
            "yes_ask_dollars",
            "yes_bid_size_fp",
            "yes_ask_size_fp",
            "last_trade_size_fp",
            "volume_fp",
            "open_interest_fp",
            "dollar_volume",
            "dollar_open_interest",
            "ts",
            "ts_ms",
            "time",
        ]
    ),
    "trade": frozenset(
        [
            "trade_id",
            "market_ticker",
            "yes_price_dollars",
            "no_price_dollars",
            "count_fp",
            "taker_side",
            "taker_outcome_side",
            "taker_book_side",
            "is_block_trade",
            "ts",
            "ts_ms",
        ]
    ),
    "fill": frozenset(
        [
            "trade_id",
            "order_id",
            "market_ticker",
            "exchange_index",
            "is_taker",
            "side",
            "yes_price_dollars",
            "count_fp",
            "fee_cost",
            "action",
            "outcome_side",
            "book_side",
            "ts",
            "ts_ms",
            "post_position_fp",
            "purchased_side",
        ]
    ),
    "market_position": frozenset(
        [
            "user_id",
            "market_ticker",
            "position_fp",
            "position_cost_dollars",
            "realized_pnl_dollars",
            "fees_paid_dollars",
            "position_fee_cost_dollars",
            "volume_fp",
        ]
    ),
    "market_lifecycle_v2": frozenset(
        [
            "event_type",
            "market_ticker",
        ]
    ),
    "order_group_updates": frozenset(["event_type", "order_group_id", "ts_ms"]),
    "user_order": frozenset(
        [
            "order_id",
            "user_id",
            "ticker",
            "status",
            "side",
            "is_yes",
            "outcome_side",
            "book_side",
            "yes_price_dollars",
            "fill_count_fp",
            "remaining_count_fp",
            "initial_count_fp",
            "taker_fill_cost_dollars",
            "maker_fill_cost_dollars",
            "taker_fees_dollars",
            "maker_fees_dollars",
            "client_order_id",
            "created_time",
            "created_ts_ms",
        ]
    ),
}

LIFECYCLE_EVENT_TYPES = frozenset(
    [
        "created",
        "deactivated",
        "activated",
        "close_date_updated",
        "determined",
        "settled",
        "price_level_structure_updated",
        "metadata_updated",
    ]
)

# websockets/public-trades.md
TRADE_EXAMPLE: dict[str, Any] = {
    "type": "trade",
    "sid": 11,
    "msg": {
        "trade_id": "d91bc706-ee49-470d-82d8-11418bda6fed",
        "market_ticker": "HIGHNY-22DEC23-B53.5",
        "yes_price_dollars": "0.360",
        "no_price_dollars": "0.640",
        "count_fp": "136.00",
        "taker_side": "no",
        "is_block_trade": False,
        "ts": 1669149841,
        "ts_ms": 1669149841000,
    },
}

# websockets/user-fills.md
FILL_EXAMPLE: dict[str, Any] = {
    "type": "fill",
    "sid": 13,
    "msg": {
        "trade_id": "d91bc706-ee49-470d-82d8-11418bda6fed",
        "order_id": "ee587a1c-8b87-4dcf-b721-9f6f790619fa",
        "market_ticker": "HIGHNY-22DEC23-B53.5",
        "exchange_index": 2,
        "is_taker": True,
        "side": "yes",
        "yes_price_dollars": "0.750",
        "count_fp": "278.00",
        "action": "buy",
        "ts": 1671899397,
        "ts_ms": 1671899397000,
        "post_position_fp": "500.00",
        "purchased_side": "yes",
        "subaccount": 3,
    },
}

# websockets/market-positions.md
MARKET_POSITION_EXAMPLE: dict[str, Any] = {
    "type": "market_position",
    "sid": 14,
    "msg": {
        "user_id": "user123",
        "market_ticker": "FED-23DEC-T3.00",
        "position_fp": "100.00",
        "position_cost_dollars": "50.0000",
        "realized_pnl_dollars": "10.0000",
        "fees_paid_dollars": "1.0000",
        "position_fee_cost_dollars": "0.5000",
        "volume_fp": "15.00",
    },
}

# websockets/market-and-event-lifecycle.md
MARKET_LIFECYCLE_EXAMPLE: dict[str, Any] = {
    "type": "market_lifecycle_v2",
    "sid": 13,
    "msg": {
        "market_ticker": "INXD-23SEP14-B4487",
        "event_type": "created",
        "exchange_index": 0,
        "open_ts": 1694635200,
        "close_ts": 1694721600,
        "price_level_structure": "linear_cent",
        "additional_metadata": {
            "name": "S&P 500 daily return on Sep 14",
            "title": "S&P 500 closes up by 0.02% or more",
            "yes_sub_title": "S&P 500 closes up 0.02%+",
            "no_sub_title": "S&P 500 closes up <0.02%",
            "rules_primary": "The S&P 500 index level at 4:00 PM ET...",
            "rules_secondary": "",
            "can_close_early": True,
            "event_ticker": "INXD-23SEP14",
            "expected_expiration_ts": 1694721600,
            "strike_type": "greater",
            "floor_strike": 4487,
        },
    },
}

# websockets/user-orders.md
USER_ORDER_EXAMPLE: dict[str, Any] = {
    "type": "user_order",
    "sid": 22,
    "msg": {
        "order_id": "ee587a1c-8b87-4dcf-b721-9f6f790619fa",
        "user_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "ticker": "FED-23DEC-T3.00",
        "status": "resting",
        "side": "yes",
        "is_yes": True,
        "yes_price_dollars": "0.3500",
        "fill_count_fp": "0.00",
        "remaining_count_fp": "10.00",
        "initial_count_fp": "10.00",
        "taker_fill_cost_dollars": "0.0000",
        "maker_fill_cost_dollars": "0.0000",
        "client_order_id": "my-order-1",
        "order_group_id": "og_123",
        "self_trade_prevention_type": "taker_at_cross",
        "created_time": "2024-12-01T10:00:00Z",
        "created_ts_ms": 1733047200000,
        "expiration_time": "2024-12-01T11:00:00Z",
        "expiration_ts_ms": 1733050800000,
        "subaccount_number": 0,
    },
}

# websockets/order-group-updates.md
ORDER_GROUP_EXAMPLE: dict[str, Any] = {
    "type": "order_group_updates",
    "sid": 21,
    "seq": 7,
    "msg": {"event_type": "limit_updated", "order_group_id": "og_123", "contracts_limit_fp": "150.00"},
}
