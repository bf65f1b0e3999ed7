"""The matching engine without sockets: price-time priority, time in force, self-trade prevention,
Kalshi fee charging, netting, settlement and order groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.money import ONE
from engine.pricing.fees import charge_fill
from engine.sim.board import generate_board
from engine.sim.exchange import Exchange, OrderRejected
from engine.sim.records import BookChange, ExchangeEvent, FillEvent, Order

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
D = Decimal


def _exchange(balance: str = "1000") -> tuple[Exchange, str]:
    board = generate_board(5, 2, ("NFL",), NOW)
    ex = Exchange(board, NOW, D(balance))
    ticker = board.games[0].home_ticker
    # YES bids 0.40 x 100, 0.39 x 50; NO bids 0.55 x 30 (YES ask 0.45), 0.54 x 40 (YES ask 0.46)
    ex.quote_house(ticker, [(D("0.40"), D(100)), (D("0.39"), D(50))], [(D("0.55"), D(30)), (D("0.54"), D(40))], NOW)
    return ex, ticker


def _place(ex: Exchange, ticker: str, side: str, price: str, count: str, tif: str, **kw: object) -> Order:
    args: dict[str, object] = {
        "post_only": False,
        "self_trade_prevention": "taker_at_cross",
        "client_order_id": "",
        "order_group_id": "",
        "expiration_ts": None,
    }
    args.update(kw)
    return ex.place_order(
        ticker=ticker,
        book_side=side,
        price=D(price),
        count=D(count),
        time_in_force=tif,
        now=NOW,
        **args,  # type: ignore[arg-type]
    )


def test_ioc_walks_the_book_best_price_first_and_charges_per_fill() -> None:
    ex, ticker = _exchange()
    schedule = ex.markets[ticker].fees
    order = _place(ex, ticker, "bid", "0.46", "50", "immediate_or_cancel")
    assert order.filled == 50 and order.status == "executed"
    fills = ex.fills
    assert [(f.yes_price, f.count) for f in fills] == [(D("0.45"), D(30)), (D("0.46"), D(20))]
    acc = D(0)
    expected = D("1000")
    for f in fills:
        charge, acc = charge_fill(-(f.yes_price * f.count), schedule.trade_fee(f.yes_price, f.count), acc)
        expected += charge.balance_change + charge.rebate
        assert f.fee == charge.net_fee
    assert ex.balance == expected
    assert ex.orderbook(ticker).best_ask("yes") == ex.orderbook(ticker).asks("yes")[0]
    assert ex.best_yes_ask(ticker) == D("0.46")
    assert ex.orderbook(ticker).no_bids[0].count == 20


def test_limit_price_stops_matching_and_gtc_rests_the_rest() -> None:
    ex, ticker = _exchange()
    order = _place(ex, ticker, "bid", "0.45", "40", "good_till_canceled")
    assert order.filled == 30 and order.remaining == 10 and order.status == "resting"
    assert ex.best_yes_bid(ticker) == D("0.45")
    assert ex.orderbook(ticker).yes_bids[0].count == 10


def test_ask_sells_into_yes_bids() -> None:
    ex, ticker = _exchange()
    order = _place(ex, ticker, "ask", "0.39", "120", "immediate_or_cancel")
    assert order.filled == 120
    assert [f.yes_price for f in ex.fills] == [D("0.40"), D("0.39")]
    pos = ex.positions[ticker]
    assert pos.position == -120  # short YES = long NO
    assert pos.exposure == (ONE - D("0.40")) * 100 + (ONE - D("0.39")) * 20


def test_fok_all_or_nothing() -> None:
    ex, ticker = _exchange()
    killed = _place(ex, ticker, "bid", "0.46", "71", "fill_or_kill")
    assert killed.filled == 0 and killed.status == "canceled" and ex.balance == D("1000")
    done = _place(ex, ticker, "bid", "0.46", "70", "fill_or_kill")
    assert done.filled == 70


def test_post_only_and_balance_rejections_change_nothing() -> None:
    ex, ticker = _exchange(balance="5")
    with pytest.raises(OrderRejected) as info:
        _place(ex, ticker, "bid", "0.45", "1", "good_till_canceled", post_only=True)
    assert info.value.code == "post_only_cross"
    with pytest.raises(OrderRejected) as info:
        _place(ex, ticker, "bid", "0.45", "100", "immediate_or_cancel")
    assert info.value.code == "insufficient_balance"
    with pytest.raises(OrderRejected):
        _place(ex, "KXNFLGAME-NOPE-X", "bid", "0.45", "1", "immediate_or_cancel")
    assert ex.orders == {} and ex.balance == D("5")


def test_self_trade_prevention() -> None:
    ex, ticker = _exchange()
    resting = _place(ex, ticker, "ask", "0.44", "5", "good_till_canceled")  # YES ask 0.44 on the NO ladder
    assert resting.status == "resting"
    taker = _place(ex, ticker, "bid", "0.45", "10", "immediate_or_cancel")
    assert taker.filled == 0 and taker.status == "canceled"  # taker_at_cross: stop at our own order
    maker = _place(ex, ticker, "bid", "0.45", "10", "immediate_or_cancel", self_trade_prevention="maker")
    assert ex.orders[resting.order_id].status == "canceled"
    assert maker.filled == 10  # resting own order cancelled, matching went on


def test_netting_pays_a_dollar_per_pair_and_settlement_pays_winners() -> None:
    ex, ticker = _exchange()
    _place(ex, ticker, "bid", "0.45", "10", "immediate_or_cancel")
    after_buy = ex.balance
    _place(ex, ticker, "ask", "0.40", "4", "immediate_or_cancel")
    sell_fee = ex.fills[-1].fee
    assert ex.positions[ticker].position == 6
    assert ex.balance == after_buy + D("0.40") * 4 - sell_fee
    assert ex.positions[ticker].realized_pnl == (D("0.40") - D("0.45")) * 4
    before = ex.balance
    settlement = ex.settle(ticker, "yes", NOW)
    assert settlement is not None and settlement.revenue == 6
    assert ex.balance == before + 6
    assert ex.markets[ticker].status == "finalized"
    with pytest.raises(OrderRejected):
        _place(ex, ticker, "bid", "0.45", "1", "immediate_or_cancel")


def test_order_group_cancels_siblings_when_its_limit_is_reached() -> None:
    ex, ticker = _exchange()
    group = ex.create_order_group(D(5))
    sibling = _place(ex, ticker, "bid", "0.30", "3", "good_till_canceled", order_group_id=group.group_id)
    _place(ex, ticker, "bid", "0.45", "5", "immediate_or_cancel", order_group_id=group.group_id)
    assert group.triggered
    assert ex.orders[sibling.order_id].status == "canceled"
    with pytest.raises(OrderRejected):
        _place(ex, ticker, "bid", "0.30", "1", "good_till_canceled", order_group_id=group.group_id)
    ex.reset_order_group(group.group_id)
    assert _place(ex, ticker, "bid", "0.30", "1", "good_till_canceled", order_group_id=group.group_id).remaining == 1


def test_events_describe_every_book_change() -> None:
    ex, ticker = _exchange()
    events: list[ExchangeEvent] = []
    ex.subscribe(events.append)
    _place(ex, ticker, "bid", "0.45", "35", "good_till_canceled", client_order_id="c1")
    changes = [e for e in events if isinstance(e, BookChange)]
    assert {(c.side, c.price, c.delta) for c in changes} == {("no", D("0.55"), D(-30)), ("yes", D("0.45"), D(5))}
    assert all(c.client_order_id == "c1" for c in changes)
    assert sum(1 for e in events if isinstance(e, FillEvent)) == 1


def test_good_till_time_orders_expire() -> None:
    ex, ticker = _exchange()
    deadline = int(NOW.timestamp()) + 60
    order = _place(ex, ticker, "bid", "0.30", "2", "good_till_canceled", expiration_ts=deadline)
    assert order.status == "resting"
    ex.expire_orders(NOW + timedelta(seconds=59))
    assert order.status == "resting"
    ex.expire_orders(NOW + timedelta(seconds=60))
    assert order.status == "canceled"
    assert D("0.30") not in {lvl.price for lvl in ex.orderbook(ticker).yes_bids}
    with pytest.raises(OrderRejected, match="future"):
        _place(ex, ticker, "bid", "0.30", "2", "good_till_canceled", expiration_ts=int(NOW.timestamp()))


def test_a_failing_listener_does_not_break_the_exchange(caplog: pytest.LogCaptureFixture) -> None:
    ex, ticker = _exchange()
    seen: list[ExchangeEvent] = []

    def broken(event: ExchangeEvent) -> None:
        raise RuntimeError("listener bug")

    ex.subscribe(broken)
    ex.subscribe(seen.append)
    order = _place(ex, ticker, "bid", "0.45", "1", "immediate_or_cancel")
    assert order.filled == 1
    assert any(isinstance(e, FillEvent) for e in seen)
    assert "listener failed" in caplog.text
