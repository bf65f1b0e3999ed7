"""client_order_id derivation and the order state machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from execution_kit import T0, record

from engine.detection.signals import Side, Signal, SignalKind
from engine.execution import states
from engine.execution.ids import client_order_id, signal_key
from engine.execution.model import Action, FillRecord, Mode, OrderState
from engine.execution.states import ALLOWED, OrderStateError

S = OrderState
LATER = T0 + timedelta(seconds=1)


def signal(**changes: object) -> Signal:
    base = Signal(
        kind=SignalKind.EDGE, ticker="KXNFLGAME-26NOV26DALNYG-DAL", side=Side.YES,
        event_ticker="KXNFLGAME-26NOV26DALNYG", fair=0.6, books={}, books_agree=3, ask=D("0.52"),
        edge=D("0.05"), count=12, limit_price=D("0.53"), cost=D("6.24"), fees=D("0.21"), ev=D("0.4"),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def fill(rec_cid: str, count: int, fill_id: str = "f1", price: str = "0.50") -> FillRecord:
    return FillRecord(fill_id, rec_cid, "T", Side.YES, Action.BUY, count, D(price), D("0.02"), LATER, Mode.PAPER)


# -- client_order_id -------------------------------------------------------------------------------------


def test_same_signal_and_attempt_give_the_same_id_and_another_attempt_another() -> None:
    key = signal_key(signal(), T0)
    again = signal_key(signal(), T0)
    assert key == again
    assert client_order_id(key, 0) == client_order_id(again, 0)
    assert client_order_id(key, 1) != client_order_id(key, 0)


def test_id_is_a_uuid_and_stable_across_processes() -> None:
    """The id is derived, not random: the value below is what any process computes for this key."""
    cid = client_order_id("edge|E|T|yes|0.5300|12|1", 0)
    assert cid == client_order_id("edge|E|T|yes|0.5300|12|1", 0)
    assert len(cid) == 36 and cid.count("-") == 4


@pytest.mark.parametrize(
    "change",
    [
        {"ticker": "KXNFLGAME-26NOV26DALNYG-NYG"},
        {"side": Side.NO},
        {"limit_price": D("0.54")},
        {"count": 13},
        {"kind": SignalKind.ARB},
    ],
)
def test_a_different_decision_gets_a_different_key(change: dict[str, object]) -> None:
    assert signal_key(signal(**change), T0) != signal_key(signal(), T0)


def test_the_same_opportunity_seen_again_later_is_a_new_decision() -> None:
    assert signal_key(signal(), T0) != signal_key(signal(), T0 + timedelta(minutes=5))


def test_kalshi_arb_legs_get_their_own_keys_with_their_own_limits() -> None:
    arb = signal(kind=SignalKind.KALSHI_ARB, tickers=("E-A", "E-B"), leg_limits=(D("0.40"), D("0.55")), ticker="E-A")
    a, b = signal_key(arb, T0, "E-A"), signal_key(arb, T0, "E-B")
    assert a != b and "0.4000" in a and "0.5500" in b


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        signal_key(signal(), datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="non-empty"):
        client_order_id("", 0)
    with pytest.raises(ValueError, match="attempt"):
        client_order_id("k", -1)


# -- state machine ---------------------------------------------------------------------------------------


def test_the_happy_path_new_sent_acked_partial_filled() -> None:
    rec = record(count=10)
    rec = states.sent(rec, LATER)
    rec = states.acked(rec, "ex-1", LATER)
    assert (rec.state, rec.exchange_order_id) == (S.ACKED, "ex-1")
    rec = states.apply_fill(rec, fill(rec.client_order_id, 4), LATER)
    assert (rec.state, rec.filled_count, rec.filled_cost, rec.fees) == (S.PARTIAL, 4, D("2.00"), D("0.02"))
    rec = states.apply_fill(rec, fill(rec.client_order_id, 6, "f2", "0.52"), LATER)
    assert (rec.state, rec.filled_count, rec.remaining) == (S.FILLED, 10, 0)
    assert states.average_price(rec) == D("5.12") / 10


def test_ioc_remainder_is_cancelled_with_the_fills_kept() -> None:
    rec = states.sent(record(count=10), LATER)
    rec = states.apply_fill(rec, fill(rec.client_order_id, 3), LATER)
    rec = states.close(rec, S.CANCELLED, LATER, reason="ioc remainder")
    assert (rec.state, rec.filled_count, rec.reason) == (S.CANCELLED, 3, "ioc remainder")


def test_close_of_a_fully_filled_order_is_filled_whatever_the_exchange_status() -> None:
    rec = states.apply_fill(states.sent(record(count=2), LATER), fill(record().client_order_id, 2), LATER)
    assert states.close(rec, S.CANCELLED, LATER).state is S.FILLED


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_transition_is_allowed_exactly_when_the_table_says(current: OrderState, target: OrderState) -> None:
    rec = replace(record(), state=current)
    if target in ALLOWED[current] or (target is current and target is not S.PARTIAL):
        assert states.move(rec, target, LATER).state is target
    else:
        with pytest.raises(OrderStateError, match=f"{current.value} -> {target.value}"):
            states.move(rec, target, LATER)


def test_terminal_states_allow_nothing_and_unknown_only_resolution() -> None:
    for terminal in (S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED):
        assert ALLOWED[terminal] == frozenset()
    assert S.SENT not in ALLOWED[S.UNKNOWN] and S.NEW not in ALLOWED[S.UNKNOWN]


def test_fills_beyond_the_order_or_before_the_send_or_after_filled_are_refused() -> None:
    rec = states.sent(record(count=5), LATER)
    with pytest.raises(OrderStateError, match="6 filled of 5"):
        states.apply_fill(rec, fill(rec.client_order_id, 6), LATER)
    with pytest.raises(OrderStateError, match="on a new order"):
        states.apply_fill(record(count=5), fill(rec.client_order_id, 1), LATER)
    done = states.apply_fill(rec, fill(rec.client_order_id, 5), LATER)
    with pytest.raises(OrderStateError, match="after it was filled"):
        states.apply_fill(done, fill(rec.client_order_id, 1, "f9"), LATER)
    with pytest.raises(OrderStateError, match="on a rejected order"):
        states.apply_fill(states.close(rec, S.REJECTED, LATER), fill(rec.client_order_id, 1), LATER)
    with pytest.raises(OrderStateError, match="belongs to"):
        states.apply_fill(rec, fill("someone-else", 1), LATER)


def test_a_fill_reported_after_the_cancel_of_the_remainder_still_counts() -> None:
    rec = states.close(states.sent(record(count=5), LATER), S.CANCELLED, LATER)
    rec = states.apply_fill(rec, fill(rec.client_order_id, 2), LATER)
    assert (rec.state, rec.filled_count) == (S.CANCELLED, 2)


def test_acknowledged_under_another_exchange_id_is_an_error() -> None:
    rec = states.acked(states.sent(record(), LATER), "ex-1", LATER)
    with pytest.raises(OrderStateError, match="known as ex-1"):
        states.acked(rec, "ex-2", LATER)


def test_unknown_is_resolved_by_the_exchange_answer() -> None:
    rec = states.move(states.sent(record(), LATER), S.UNKNOWN, LATER, reason="reset")
    assert states.acked(rec, "ex-1", LATER).state is S.ACKED
    assert states.close(rec, S.REJECTED, LATER, reason="not placed").state is S.REJECTED
    with pytest.raises(OrderStateError):
        states.close(rec, S.PARTIAL, LATER)


def test_times_are_stamped() -> None:
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert states.sent(record(), later).updated_at == later
