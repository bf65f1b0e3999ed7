"""The dashboard's pure builders: gone signals held a few seconds, edge history sampled and bounded, the
ladder levels an order would take, and a malformed dashboard document refused with the field named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.detection.signals import Side, Signal, SignalKind
from engine.markets.kalshi import Level, Orderbook
from engine.runtime.dashboard import DashboardFormatError, DashboardSnapshot
from engine.runtime.dashboard_build import GONE_HOLD, HISTORY_WINDOW, ladder, next_gone, next_history

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
D = Decimal


def signal(ticker: str = "KXNBAGAME-26DEC03MEMMIA-MIA", edge: str = "0.05") -> Signal:
    return Signal(SignalKind.EDGE, ticker, Side.YES, "KXNBAGAME-26DEC03MEMMIA", 0.6, {"fanduel": 0.6}, 1, D("0.55"),
                  D(edge), 10, D("0.55"), D("5.50"), D("0.10"), D("0.40"))  # fmt: skip


def test_a_gone_signal_is_held_then_dropped_and_dropped_at_once_when_live_again() -> None:
    s = signal()
    gone = next_gone({}, [s], {}, T0)
    assert s.key in gone
    assert s.key in next_gone(gone, [], {}, T0 + GONE_HOLD - timedelta(seconds=1))
    assert s.key not in next_gone(gone, [], {}, T0 + GONE_HOLD)
    assert s.key not in next_gone(gone, [], {s.key: s}, T0 + timedelta(seconds=1))


def test_edge_history_samples_once_per_step_within_the_window_and_forgets_gone_signals() -> None:
    s = signal()
    history = next_history({}, {s.key: s}, T0)
    history = next_history(history, {s.key: signal(edge="0.06")}, T0 + timedelta(milliseconds=300))
    assert [v for _, v in history[s.key]] == [0.05]
    for i in range(1, 400):
        history = next_history(history, {s.key: s}, T0 + timedelta(seconds=i))
    points = history[s.key]
    assert T0 + timedelta(seconds=399) - points[0][0] <= HISTORY_WINDOW
    assert next_history(history, {}, T0 + timedelta(seconds=400)) == {}


def test_the_ladder_marks_the_levels_an_order_takes_up_to_its_limit() -> None:
    book = Orderbook("T", yes_bids=(Level(D("0.40"), D(5)),),
                     no_bids=(Level(D("0.45"), D(3)), Level(D("0.44"), D(4)), Level(D("0.40"), D(9))))  # fmt: skip
    yes_asks, no_asks = ladder(book, Side.YES, D("0.56"), 5)
    assert [(lvl.price, lvl.taken) for lvl in yes_asks] == [(D("0.55"), True), (D("0.56"), True), (D("0.60"), False)]
    assert [lvl.taken for lvl in no_asks] == [False]
    assert [lvl.taken for lvl in ladder(book, Side.YES, D("0.55"), 10)[0]] == [True, False, False]


def test_a_malformed_dashboard_document_names_the_field() -> None:
    with pytest.raises(DashboardFormatError, match=r"dashboard\.ts: missing"):
        DashboardSnapshot.from_json({})
    with pytest.raises(DashboardFormatError, match="expected an object"):
        DashboardSnapshot.from_json([])
