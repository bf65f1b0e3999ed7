"""Typed Kalshi WebSocket channel messages, parsed from the documented examples (tests/kalshi_ws_docs.py)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal as D
from typing import Any

import pytest
from kalshi_ws_docs import (
    FILL_EXAMPLE,
    MARKET_LIFECYCLE_EXAMPLE,
    MARKET_POSITION_EXAMPLE,
    ORDER_GROUP_EXAMPLE,
    TRADE_EXAMPLE,
    USER_ORDER_EXAMPLE,
)

from engine.connectors.errors import ProtocolError
from engine.connectors.kalshi.messages import (
    ChannelMessage,
    FillUpdate,
    MarketLifecycle,
    OrderbookDelta,
    OrderbookSnapshot,
    OrderGroupUpdate,
    PositionUpdate,
    TradeUpdate,
    UserOrderUpdate,
    parse_message,
)
from engine.errors import PayloadError
from engine.markets.kalshi import Level


def parse(doc: dict[str, Any]) -> object:
    return parse_message(json.dumps(doc))


def with_msg(doc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for key, value in changes.items():
        if value is None:
            out["msg"].pop(key, None)
        else:
            out["msg"][key] = value
    return out


def test_trade_example() -> None:
    assert parse(TRADE_EXAMPLE) == TradeUpdate(
        sid=11,
        trade_id="d91bc706-ee49-470d-82d8-11418bda6fed",
        ticker="HIGHNY-22DEC23-B53.5",
        yes_price=D("0.360"),
        count=D("136.00"),
        taker_outcome_side="no",
        is_block_trade=False,
        ts_ms=1669149841000,
    )
    current = with_msg(TRADE_EXAMPLE, taker_outcome_side="yes", taker_book_side="bid")
    trade = parse(current)
    assert isinstance(trade, TradeUpdate) and trade.taker_outcome_side == "yes"  # the canonical field wins


def test_fill_example() -> None:
    assert parse(FILL_EXAMPLE) == FillUpdate(
        sid=13,
        trade_id="d91bc706-ee49-470d-82d8-11418bda6fed",
        order_id="ee587a1c-8b87-4dcf-b721-9f6f790619fa",
        ticker="HIGHNY-22DEC23-B53.5",
        outcome_side="yes",
        book_side="bid",
        yes_price=D("0.750"),
        count=D("278.00"),
        fee_cost=None,  # the example omits the schema's required fee_cost: unknown, not zero
        is_taker=True,
        post_position=D("500.00"),
        client_order_id=None,
        ts_ms=1671899397000,
        subaccount=3,
    )


def test_fill_sides_come_from_the_canonical_fields_or_the_legacy_pair() -> None:
    base = with_msg(FILL_EXAMPLE, fee_cost="0.0200")
    fill = parse(base)
    assert isinstance(fill, FillUpdate) and (fill.outcome_side, fill.book_side) == ("yes", "bid")
    assert fill.fee_cost == D("0.0200") and fill.post_position == D("500.00")
    sold_yes = parse(with_msg(base, action="sell", purchased_side=None))
    assert isinstance(sold_yes, FillUpdate) and (sold_yes.outcome_side, sold_yes.book_side) == ("no", "ask")
    canonical = parse(with_msg(base, outcome_side="no", book_side="ask", side=None, action=None))
    assert isinstance(canonical, FillUpdate) and canonical.book_side == "ask"
    with pytest.raises(ProtocolError, match="book_side"):
        parse(with_msg(base, outcome_side="no", book_side="bid"))


def test_market_position_example() -> None:
    assert parse(MARKET_POSITION_EXAMPLE) == PositionUpdate(
        sid=14,
        ticker="FED-23DEC-T3.00",
        position=D("100.00"),
        position_cost=D("50.0000"),
        realized_pnl=D("10.0000"),
        fees_paid=D("1.0000"),
        position_fee_cost=D("0.5000"),
        volume=D("15.00"),
        subaccount=None,
    )
    short = parse(with_msg(MARKET_POSITION_EXAMPLE, position_fp="-3.00", realized_pnl_dollars="-1.2500"))
    assert isinstance(short, PositionUpdate) and short.position == D("-3.00") and short.realized_pnl == D("-1.25")


def test_market_lifecycle_example() -> None:
    assert parse(MARKET_LIFECYCLE_EXAMPLE) == MarketLifecycle(
        sid=13, ticker="INXD-23SEP14-B4487", event_type="created", open_ts=1694635200, close_ts=1694721600
    )
    determined = {
        "type": "market_lifecycle_v2",
        "sid": 13,
        "msg": {"market_ticker": "A", "event_type": "determined", "result": "yes", "determination_ts": 5,
                "settlement_value": "1.0000"},
    }  # fmt: skip
    msg = parse(determined)
    assert isinstance(msg, MarketLifecycle) and (msg.result, msg.settlement_value) == ("yes", D(1))


def test_user_order_example() -> None:
    order = parse(USER_ORDER_EXAMPLE)
    assert order == UserOrderUpdate(
        sid=22,
        order_id="ee587a1c-8b87-4dcf-b721-9f6f790619fa",
        client_order_id="my-order-1",
        ticker="FED-23DEC-T3.00",
        status="resting",
        outcome_side="yes",
        book_side="bid",
        yes_price=D("0.3500"),
        fill_count=D(0),
        remaining_count=D(10),
        initial_count=D(10),
        taker_fill_cost=D(0),
        maker_fill_cost=D(0),
        taker_fees=None,
        maker_fees=None,
        order_group_id="og_123",
        created_ts_ms=1733047200000,
        last_updated_ts_ms=None,
        expiration_ts_ms=1733050800000,
    )


@pytest.mark.parametrize(
    ("doc", "field", "value"),
    [
        (TRADE_EXAMPLE, "yes_price_dollars", 36),
        (TRADE_EXAMPLE, "count_fp", "-1.00"),
        (TRADE_EXAMPLE, "taker_side", None),
        (FILL_EXAMPLE, "is_taker", "yes"),
        (FILL_EXAMPLE, "order_id", None),
        (FILL_EXAMPLE, "ts_ms", "1671899397000"),
        (FILL_EXAMPLE, "fee_cost", 0.02),
        (MARKET_POSITION_EXAMPLE, "position_fp", 1.5),
        (MARKET_POSITION_EXAMPLE, "fees_paid_dollars", None),
        (MARKET_LIFECYCLE_EXAMPLE, "event_type", None),
        (MARKET_LIFECYCLE_EXAMPLE, "close_ts", "soon"),
        (USER_ORDER_EXAMPLE, "status", "open"),
        (USER_ORDER_EXAMPLE, "remaining_count_fp", None),
        (USER_ORDER_EXAMPLE, "yes_price_dollars", "1.5000"),
    ],
)
def test_a_bad_field_is_a_protocol_error_naming_it(doc: dict[str, Any], field: str, value: Any) -> None:
    bad = with_msg(doc, **{field: value})
    with pytest.raises(ProtocolError) as info:
        parse(bad)
    cause = info.value.__cause__
    expected = "taker_outcome_side" if field == "taker_side" else field
    assert isinstance(cause, PayloadError) and cause.field == expected and f"'{expected}'" in str(info.value)


def test_unknown_fields_are_ignored_and_unknown_types_stay_raw() -> None:
    extra = with_msg(USER_ORDER_EXAMPLE, brand_new_field={"x": 1})
    assert parse(extra) == parse(USER_ORDER_EXAMPLE)
    raw = parse({"type": "event_lifecycle", "sid": 5, "msg": {"event_ticker": "E"}})
    assert isinstance(raw, ChannelMessage) and raw.type == "event_lifecycle" and raw.msg == {"event_ticker": "E"}


# websockets/orderbook-updates.md
SNAPSHOT_EXAMPLE: dict[str, Any] = {
    "type": "orderbook_snapshot",
    "sid": 2,
    "seq": 2,
    "msg": {
        "market_ticker": "FED-23DEC-T3.00",
        "market_id": "9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1",
        "yes_dollars_fp": [["0.0800", "300.00"], ["0.2200", "333.00"]],
        "no_dollars_fp": [["0.5400", "20.00"], ["0.5600", "146.00"]],
    },
}


def test_yes_leg_book_prices_are_turned_back_into_no_prices() -> None:
    """order_direction.md: with use_yes_price a NO level reported at 0.70 is the NO bid at 0.30."""
    legacy = parse(SNAPSHOT_EXAMPLE)
    yes_leg = copy.deepcopy(SNAPSHOT_EXAMPLE)
    yes_leg["msg"]["no_dollars_fp"] = [["0.4400", "146.00"], ["0.4600", "20.00"]]
    unified = parse_message(json.dumps(yes_leg), yes_leg_book=True)
    assert isinstance(legacy, OrderbookSnapshot) and isinstance(unified, OrderbookSnapshot)
    assert legacy.no_bids == unified.no_bids == (Level(D("0.5600"), D(146)), Level(D("0.5400"), D(20)))
    assert legacy.yes_bids == unified.yes_bids
    body = {"market_ticker": "A", "market_id": "m", "price_dollars": "0.70", "delta_fp": "5", "side": "no"}
    delta: dict[str, Any] = {"type": "orderbook_delta", "sid": 2, "seq": 3, "msg": body}
    no_delta = parse_message(json.dumps(delta), yes_leg_book=True)
    assert isinstance(no_delta, OrderbookDelta) and no_delta.price == D("0.30")
    delta["msg"]["side"] = "yes"
    yes_delta = parse_message(json.dumps(delta), yes_leg_book=True)
    assert isinstance(yes_delta, OrderbookDelta) and yes_delta.price == D("0.70")


def test_a_snapshot_side_without_offers_is_absent_and_empty() -> None:
    """orderbook-updates.md: yes_dollars_fp / no_dollars_fp "will not exist" when that side has no offers."""
    bare = copy.deepcopy(SNAPSHOT_EXAMPLE)
    del bare["msg"]["no_dollars_fp"]
    snap = parse(bare)
    assert isinstance(snap, OrderbookSnapshot) and snap.no_bids == () and len(snap.yes_bids) == 2


def test_order_group_update_example() -> None:
    assert parse(ORDER_GROUP_EXAMPLE) == OrderGroupUpdate(
        sid=21, seq=7, event_type="limit_updated", order_group_id="og_123", contracts_limit=D(150), ts_ms=None
    )
    with pytest.raises(ProtocolError, match="event_type"):
        parse(with_msg(ORDER_GROUP_EXAMPLE, event_type="exploded"))
