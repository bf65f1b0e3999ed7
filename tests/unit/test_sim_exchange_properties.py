"""Invariants of the matching engine under random order flow and market-maker requotes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.money import ONE, ZERO
from engine.sim.board import generate_board
from engine.sim.exchange import Exchange, OrderRejected
from engine.sim.records import RESTING

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)

prices = st.integers(min_value=1, max_value=99).map(lambda c: Decimal(c) / 100)
counts = st.integers(min_value=1, max_value=80).map(Decimal)
orders = st.tuples(
    st.sampled_from(["bid", "ask"]),
    prices,
    counts,
    st.sampled_from(["good_till_canceled", "immediate_or_cancel", "fill_or_kill"]),
    st.sampled_from(["taker_at_cross", "maker"]),
)
requote = st.tuples(st.just("requote"), prices, st.integers(min_value=1, max_value=5))
actions = st.lists(st.one_of(orders, requote), min_size=1, max_size=25)


def _house(ex: Exchange, ticker: str, mid: Decimal, half_cents: int) -> None:
    half = Decimal(half_cents) / 100
    bid = max(mid - half, Decimal("0.01"))
    ask = min(mid + half, Decimal("0.99"))
    if ask <= bid:
        return
    ex.quote_house(ticker, [(bid, Decimal(50))], [(ONE - ask, Decimal(50))], NOW)


@settings(max_examples=60, deadline=None)
@given(actions)
def test_books_never_cross_and_records_add_up(flow: list[tuple[object, ...]]) -> None:
    board = generate_board(3, 1, ("NBA",), NOW)
    ex = Exchange(board, NOW, Decimal(100))
    ticker = board.games[0].home_ticker
    _house(ex, ticker, Decimal("0.50"), 2)
    for action in flow:
        if action[0] == "requote":
            _house(ex, ticker, action[1], action[2])  # type: ignore[arg-type]
        else:
            _order(ex, ticker, action)
        bid = ex.best_yes_bid(ticker)
        ask = ex.best_yes_ask(ticker)
        assert bid is None or ask is None or bid < ask, "crossed book"
        assert ex.balance >= ZERO
    _check_records(ex, ticker)


def _order(ex: Exchange, ticker: str, action: tuple[object, ...]) -> None:
    side, price, count, tif, stp = action
    try:
        ex.place_order(
            ticker=ticker,
            book_side=str(side),
            price=price,  # type: ignore[arg-type]
            count=count,  # type: ignore[arg-type]
            time_in_force=str(tif),
            post_only=False,
            self_trade_prevention=str(stp),
            client_order_id="",
            order_group_id="",
            expiration_ts=None,
            now=NOW,
        )
    except OrderRejected as exc:
        assert exc.code == "insufficient_balance"


def _check_records(ex: Exchange, ticker: str) -> None:
    position = ZERO
    for order in ex.orders.values():
        filled = sum((f.count for f in ex.fills if f.order_id == order.order_id), ZERO)
        assert filled == order.filled
        assert order.remaining >= ZERO
        if order.status == RESTING:
            assert order.filled + order.remaining == order.initial
        else:
            assert order.remaining == ZERO
    for fill in ex.fills:
        position += fill.count if fill.book_side == "bid" else -fill.count
        assert fill.fee >= ZERO
    held = ex.positions.get(ticker)
    assert (held.position if held else ZERO) == position
    # money is conserved: once the market settles YES, every YES contract bought paid $1 (by netting or
    # by settlement) and nothing else came in or out but prices and fees
    spent = sum(
        ((f.yes_price if f.book_side == "bid" else ONE - f.yes_price) * f.count + f.fee for f in ex.fills), ZERO
    )
    yes_bought = sum((f.count for f in ex.fills if f.book_side == "bid"), ZERO)
    ex.settle(ticker, "yes", NOW)
    assert ex.balance == Decimal(100) - spent + yes_bought
