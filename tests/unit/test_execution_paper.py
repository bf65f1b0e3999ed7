"""Paper fills: the level walk, partial fills, the limit, IOC/FOK, Kalshi's fees with the rounding
accumulator, and latency that makes a vanished level missed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from builders import book_json, yes_asks
from execution_kit import T0, intent

from engine.detection.signals import Side
from engine.execution.model import Action, OrderState, TimeInForce
from engine.execution.paper import PaperExecutor, PaperOrderError, match
from engine.markets.kalshi import Orderbook, parse_orderbook
from engine.pricing.fees import DEFAULT_FEES, FeeSchedule, FeeType, charge_order

T = "KXNBAGAME-26NOV25BOSNYK-BOS"
BOOK = yes_asks(T, [("0.50", "3"), ("0.52", "4"), ("0.55", "10")], yes_bids=[("0.47", "5"), ("0.45", "8")])


def test_walks_levels_best_first_up_to_the_count() -> None:
    out = match(intent(T, count=9, limit_price=D("0.60")), BOOK, DEFAULT_FEES, T0)
    assert [(f.price, f.count) for f in out.fills] == [(D("0.50"), 3), (D("0.52"), 4), (D("0.55"), 2)]
    assert out.state is OrderState.FILLED and out.filled == 9


def test_limit_is_respected_and_ioc_cancels_the_rest() -> None:
    out = match(intent(T, count=20, limit_price=D("0.52")), BOOK, DEFAULT_FEES, T0)
    assert [(f.price, f.count) for f in out.fills] == [(D("0.50"), 3), (D("0.52"), 4)]
    assert out.state is OrderState.CANCELLED and "7 of 20" in out.reason


def test_nothing_within_the_limit_fills_nothing() -> None:
    out = match(intent(T, count=5, limit_price=D("0.49")), BOOK, DEFAULT_FEES, T0)
    assert out.fills == () and out.state is OrderState.CANCELLED


def test_fok_is_all_or_nothing() -> None:
    short = match(intent(T, count=8, limit_price=D("0.52"), time_in_force=TimeInForce.FOK), BOOK, DEFAULT_FEES, T0)
    assert short.fills == () and short.state is OrderState.CANCELLED and "7 of 8" in short.reason
    whole = match(intent(T, count=7, limit_price=D("0.52"), time_in_force=TimeInForce.FOK), BOOK, DEFAULT_FEES, T0)
    assert whole.filled == 7 and whole.state is OrderState.FILLED


def test_buying_no_walks_the_yes_bids() -> None:
    out = match(intent(T, side=Side.NO, count=6, limit_price=D("0.55")), BOOK, DEFAULT_FEES, T0)
    assert [(f.price, f.count) for f in out.fills] == [(D("0.53"), 5), (D("0.55"), 1)]


def test_selling_yes_walks_the_yes_bids_down_to_the_limit() -> None:
    sell = intent(T, action=Action.SELL, count=10, limit_price=D("0.46"))
    out = match(sell, BOOK, DEFAULT_FEES, T0)
    assert [(f.price, f.count) for f in out.fills] == [(D("0.47"), 5)]
    assert out.state is OrderState.CANCELLED


def test_fees_are_charged_per_level_with_the_order_rounding_accumulator() -> None:
    """Each level is one fill: trade fee rounded up to the centicent, then the balance rounding with the
    per-order accumulator, exactly as engine.pricing.fees computes a Kalshi order."""
    out = match(intent(T, count=17, limit_price=D("0.55")), BOOK, DEFAULT_FEES, T0)
    expected = charge_order(
        [
            (-(p * c), DEFAULT_FEES.trade_fee(p, c))
            for p, c in ((D("0.50"), D(3)), (D("0.52"), D(4)), (D("0.55"), D(10)))
        ]
    )
    assert [f.fee for f in out.fills] == [c.net_fee for c in expected]
    # the worked numbers: 0.07*3*.25 = 0.0525, 0.07*4*.52*.48 = 0.069888 -> 0.0699, 0.07*10*.55*.45 = 0.17325
    assert [c.trade_fee for c in expected] == [D("0.0525"), D("0.0699"), D("0.1733")]
    assert sum((f.fee for f in out.fills), D(0)) == sum((c.net_fee for c in expected), D(0))


def test_fee_multiplier_of_the_series_is_used() -> None:
    doubled = FeeSchedule(FeeType.QUADRATIC, D(2))
    out = match(intent(T, count=3, limit_price=D("0.50")), BOOK, doubled, T0)
    assert out.fills[0].fee >= D("0.105")


def test_gtc_and_a_wrong_book_are_refused_by_name() -> None:
    with pytest.raises(PaperOrderError, match="GTC"):
        match(intent(T, time_in_force=TimeInForce.GTC), BOOK, DEFAULT_FEES, T0)
    with pytest.raises(PaperOrderError, match="book of OTHER"):
        match(intent(T), Orderbook("OTHER"), DEFAULT_FEES, T0)


class MovingBook:
    """The engine's view of the book: it changes when the (fake) clock passes ``moves_at``."""

    def __init__(self, before: Orderbook, after: Orderbook) -> None:
        self.before, self.after = before, after
        self.elapsed = 0.0
        self.moves_at = 0.010

    def get(self, ticker: str) -> Orderbook | None:
        return self.after if self.elapsed >= self.moves_at else self.before

    async def sleep(self, seconds: float) -> None:
        self.elapsed += seconds


async def test_latency_makes_a_level_that_vanished_meanwhile_missed() -> None:
    after = yes_asks(T, [("0.55", "10")])  # the 0.50 and 0.52 offers were taken by someone faster
    order = intent(T, count=5, limit_price=D("0.52"))
    fast_view = MovingBook(BOOK, after)
    fast = PaperExecutor(fast_view.get, lambda _: DEFAULT_FEES, lambda: T0, latency_s=0.0, sleep=fast_view.sleep)
    assert (await fast.execute(order)).filled == 5
    slow_view = MovingBook(BOOK, after)
    slow = PaperExecutor(slow_view.get, lambda _: DEFAULT_FEES, lambda: T0, latency_s=0.050, sleep=slow_view.sleep)
    missed = await slow.execute(order)
    assert missed.fills == () and missed.state is OrderState.CANCELLED


async def test_same_order_twice_is_matched_once_and_a_missing_book_rejects() -> None:
    calls: list[str] = []

    def books(ticker: str) -> Orderbook | None:
        calls.append(ticker)
        return BOOK if ticker == T else None

    paper = PaperExecutor(books, lambda _: DEFAULT_FEES, lambda: T0 + timedelta(seconds=1))
    order = intent(T, count=2, limit_price=D("0.50"))
    first = await paper.execute(order)
    assert await paper.execute(order) == first and calls == [T]
    assert first.fills[0].ts == T0 + timedelta(seconds=1)
    none = await paper.execute(intent("OTHER-X", count=1))
    assert none.state is OrderState.REJECTED and "no fresh book for OTHER-X" in none.reason


def test_fractional_levels_fill_whole_contracts_only() -> None:
    book = parse_orderbook(T, book_json([], [("0.50", "2.50")]))
    out = match(intent(T, count=5, limit_price=D("0.50")), book, DEFAULT_FEES, T0)
    assert [f.count for f in out.fills] == [2]
