"""Breaker state transitions (ACTIVE / REDUCING / HALTED), the midnight roll-over and the JSON round trip."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from breaker_kit import EVENT, KEY, LIMITS, T0, TICKER, fill, intent, proposal, settlement, state

from engine.detection.signals import Side
from engine.execution.model import Action
from engine.risk import (
    BreakerMode,
    BreakerState,
    RiskError,
    Rule,
    check,
    event_cleared,
    event_legged,
    halt,
    hold,
    initial_state,
    kill,
    on_fill,
    on_order_sent,
    on_settlement,
    reduce_only,
    resume,
    roll_day,
)

ACTIVE, REDUCING, HALTED = BreakerMode.ACTIVE, BreakerMode.REDUCING, BreakerMode.HALTED


def send(st: BreakerState, n: int, start: datetime = T0) -> BreakerState:
    for i in range(n):
        st = on_order_sent(st, LIMITS, intent(ticker=f"T{i}"), start + timedelta(seconds=3 * i))
    return st


# -- trips ----------------------------------------------------------------------------------------------


def test_orders_sent_are_counted_and_the_daily_trade_cap_trips_reducing() -> None:
    st = send(state(), 9)
    assert (st.mode, st.day.trades, len(st.recent_orders)) == (ACTIVE, 9, 9)
    st = on_order_sent(st, LIMITS, intent(), T0 + timedelta(seconds=30))
    assert (st.mode, st.rule, st.reason) == (REDUCING, "daily_trades", "daily_trades 10 >= 10")
    assert st.last_order_at[TICKER] == T0 + timedelta(seconds=30)


def test_rate_memory_forgets_orders_older_than_a_minute() -> None:
    st = send(state(), 3)
    later = T0 + timedelta(minutes=5)
    st = on_order_sent(st, LIMITS, intent(), later)
    assert st.recent_orders == (later,) and dict(st.last_order_at) == {TICKER: later}


def test_daily_loss_trips_halted_at_the_limit_not_before() -> None:
    st = on_fill(state(), LIMITS, fill("f1", 10, "0.50"), D("-99.99"), T0)
    assert st.mode is ACTIVE and st.day.loss == D("99.99")
    st = on_fill(st, LIMITS, fill("f2", 1, "0.50", fee="0.01"), D(0), T0)
    assert (st.mode, st.rule, st.reason) == (HALTED, "daily_loss", "daily_loss 100.00 >= 100.00")


def test_daily_contract_and_fee_caps_trip_reducing() -> None:
    st = on_fill(state(), LIMITS, fill("f1", 499, "0.50"), D(0), T0)
    assert st.mode is ACTIVE
    st = on_fill(st, LIMITS, fill("f2", 1, "0.50"), D(0), T0)
    assert (st.mode, st.reason) == (REDUCING, "daily_contracts 500 >= 500")
    st = on_fill(state(), LIMITS, fill("f3", 1, "0.50", fee="4.99"), D(0), T0)
    assert st.mode is ACTIVE
    st = on_fill(st, LIMITS, fill("f4", 1, "0.50", fee="0.01"), D(0), T0)
    assert (st.mode, st.reason) == (REDUCING, "daily_fees 5.00 >= 5.00")


def test_a_fill_counts_once_and_only_in_its_own_day() -> None:
    f = fill("f1", 10, "0.40", fee="0.17")
    once = on_fill(state(), LIMITS, f, D("1.50"), T0)
    assert (once.day.contracts, once.day.fees, once.day.realised_pnl) == (10, D("0.17"), D("1.33"))
    assert on_fill(once, LIMITS, f, D("1.50"), T0 + timedelta(seconds=1)) == once
    yesterday = fill("f0", 10, "0.40", ts=T0 - timedelta(days=1))
    assert on_fill(once, LIMITS, yesterday, D(-50), T0) == once


def test_losing_settlements_in_a_row_halt_and_a_win_resets_the_streak() -> None:
    st = state()
    for i in range(2):
        st = on_settlement(st, LIMITS, settlement("0", ticker=f"L{i}"), D(-1), D(-1), T0)
    assert (st.mode, st.consecutive_losses) == (ACTIVE, 2)
    st = on_settlement(st, LIMITS, settlement("1", ticker="W"), D(1), D(1), T0)
    assert st.consecutive_losses == 0
    st = on_settlement(st, LIMITS, settlement("0.5", ticker="FLAT"), D(0), D(0), T0)
    assert st.consecutive_losses == 0  # a flat result is neither
    for i in range(3):
        st = on_settlement(st, LIMITS, settlement("0", ticker=f"M{i}"), D(-1), D(-1), T0)
    assert (st.mode, st.rule, st.reason) == (
        HALTED,
        "consecutive_losses",
        "consecutive_losses 3 losing settlements in a row >= 3",
    )
    assert st.day.realised_pnl == D(-4)


def test_a_settlement_counts_once() -> None:
    st = on_settlement(state(), LIMITS, settlement("0"), D(-2), D(-2), T0)
    assert on_settlement(st, LIMITS, settlement("0"), D(-2), D(-2), T0) == st


# -- operator verbs -------------------------------------------------------------------------------------


def test_halt_then_nothing_but_resume_leaves_halted() -> None:
    st = halt(state(), "operator pressed h", T0)
    assert (st.mode, st.rule, st.reason) == (HALTED, "operator", "operator pressed h")
    after = st
    after = roll_day(after, LIMITS, T0 + timedelta(days=2))
    after = reduce_only(after, "reduce", T0)
    after = on_order_sent(after, LIMITS, intent(), T0)
    after = on_fill(after, LIMITS, fill("f1", 600, "0.5"), D(0), T0)
    after = halt(after, "second halt", T0)
    assert after.mode is HALTED and after.reason == "operator pressed h"
    back = resume(after, T0 + timedelta(hours=1))
    assert (back.mode, back.reason, back.rule, back.group_epoch) == (ACTIVE, "", "", st.group_epoch + 1)


def test_kill_is_a_halt_that_marks_the_groups_triggered_and_resume_opens_new_ones() -> None:
    st = kill(state(), "operator pressed k", T0)
    assert (st.mode, st.rule, st.killed, st.reason) == (HALTED, "kill", True, "operator pressed k")
    halted_first = kill(halt(state(), "halt", T0), "kill", T0)
    assert (halted_first.mode, halted_first.killed, halted_first.reason) == (HALTED, True, "kill (after: halt)")
    back = resume(st, T0)
    assert (back.mode, back.killed, back.group_epoch) == (ACTIVE, False, 1)


def test_resume_ends_the_losing_streak_but_not_the_days_loss() -> None:
    st = state(consecutive_losses=3, mode=HALTED, reason="streak")
    st = replace(st, day=replace(st.day, realised_pnl=D(-100)))
    back = resume(st, T0)
    assert back.consecutive_losses == 0 and back.mode is ACTIVE
    d = check(back, LIMITS, proposal(), T0)
    assert (d.allowed, d.rule) == (False, Rule.DAILY_LOSS)


def test_reduce_only_from_active_and_back_only_by_resume() -> None:
    st = reduce_only(state(), "operator: wind down", T0)
    assert (st.mode, st.rule, st.reason) == (REDUCING, "operator", "operator: wind down")
    assert roll_day(st, LIMITS, T0 + timedelta(days=1)).mode is REDUCING  # not a daily cap: stays
    assert resume(st, T0).mode is ACTIVE


def test_a_trip_never_loosens() -> None:
    st = reduce_only(state(), "wind down", T0)
    st = on_order_sent(replace(st, day=replace(st.day, trades=9)), LIMITS, intent(), T0)
    assert (st.mode, st.rule) == (REDUCING, "operator")  # the daily cap does not replace the operator's reason
    st = on_fill(st, LIMITS, fill("f1", 1, "0.5"), D(-100), T0)
    assert st.mode is HALTED  # REDUCING -> HALTED is a tightening


def test_legged_events_reduce_until_cleared() -> None:
    st = event_legged(state(), EVENT, "LEGGED")
    assert not check(st, LIMITS, proposal(), T0).allowed
    assert check(event_cleared(st, EVENT), LIMITS, proposal(), T0).allowed


# -- the day roll-over ----------------------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_counters_roll_at_midnight_new_york_and_daily_reducing_lifts() -> None:
    st = send(state(at("2026-11-25T23:59:00-05:00")), 10, at("2026-11-25T23:59:00-05:00"))
    assert st.mode is REDUCING and st.day.day == date(2026, 11, 25)
    same = roll_day(st, LIMITS, at("2026-11-25T23:59:59.999999-05:00"))
    assert same == st
    rolled = roll_day(st, LIMITS, at("2026-11-26T00:00:00-05:00"))
    assert rolled.day.day == date(2026, 11, 26) and rolled.day.trades == 0
    assert (rolled.mode, rolled.reason) == (ACTIVE, "")
    assert roll_day(rolled, LIMITS, at("2026-11-25T12:00:00-05:00")) == rolled  # a clock going back never rolls back


def test_check_uses_the_new_day_before_any_transition_runs() -> None:
    spent = state(at("2026-11-25T20:00:00-05:00"))
    spent = replace(spent, day=replace(spent.day, realised_pnl=D(-100)))
    assert not check(spent, LIMITS, proposal(at("2026-11-25T23:59:59-05:00")), at("2026-11-25T23:59:59-05:00")).allowed
    midnight = at("2026-11-26T00:00:00-05:00")
    assert check(spent, LIMITS, proposal(midnight), midnight).allowed


@pytest.mark.parametrize(
    ("day_start", "last_moment", "next_midnight"),
    [
        # spring forward (2026-03-08): the day is 23 hours long, midnight after it is 04:00 UTC (EDT)
        ("2026-03-08T05:00:00+00:00", "2026-03-09T03:59:59.999999+00:00", "2026-03-09T04:00:00+00:00"),
        # fall back (2026-11-01): 25 hours long, midnight after it is 05:00 UTC (EST)
        ("2026-11-01T04:00:00+00:00", "2026-11-02T04:59:59.999999+00:00", "2026-11-02T05:00:00+00:00"),
    ],
)
def test_roll_over_across_a_dst_change(day_start: str, last_moment: str, next_midnight: str) -> None:
    st = initial_state(LIMITS, datetime.fromisoformat(day_start))
    st = on_order_sent(st, LIMITS, intent(), datetime.fromisoformat(day_start))
    first = st.day.day
    assert roll_day(st, LIMITS, datetime.fromisoformat(last_moment)).day.day == first
    rolled = roll_day(st, LIMITS, datetime.fromisoformat(next_midnight))
    assert rolled.day.day == first + timedelta(days=1) and rolled.day.trades == 0


def test_the_time_zone_is_configurable() -> None:
    london = replace(LIMITS, timezone="Europe/London")
    st = initial_state(london, at("2026-11-25T23:30:00+00:00"))
    assert roll_day(st, london, at("2026-11-26T00:00:00+00:00")).day.day == date(2026, 11, 26)
    ny = initial_state(LIMITS, at("2026-11-25T23:30:00+00:00"))
    assert roll_day(ny, LIMITS, at("2026-11-26T00:00:00+00:00")) == ny  # still 19:00 in New York


def test_naive_times_are_refused() -> None:
    with pytest.raises(RiskError, match="has no time zone"):
        initial_state(LIMITS, datetime(2026, 11, 25, 12))


# -- persistence ----------------------------------------------------------------------------------------


def busy_state() -> BreakerState:
    st = send(state(), 3)
    st = on_fill(st, LIMITS, fill("f1", 10, "0.40", fee="0.17"), D("-1.25"), T0)
    st = on_settlement(st, LIMITS, settlement("0.5"), D("-0.50"), D("-0.67"), T0)
    big = proposal(edge=D("0.4"))
    st = hold(st, big, check(st, LIMITS, big, T0), T0)
    st = replace(st, confirmed=frozenset({"edge|A|yes"}), blocked=frozenset({"arb|B|no"}))
    st = event_legged(st, EVENT, "LEGGED: one leg filled")
    return kill(st, "operator pressed k", T0 + timedelta(seconds=10))


def test_to_json_from_json_round_trip_through_text() -> None:
    st = busy_state()
    doc = json.loads(json.dumps(st.to_json()))
    back = BreakerState.from_json(doc)
    assert back == st
    assert back.mode is HALTED and back.killed and KEY in back.held  # a halt survives a restart
    assert back.day.realised_pnl == D("-1.92") and back.day.fill_ids == frozenset({"f1"})


def test_a_restored_state_keeps_enforcing_and_deduplicating() -> None:
    back = BreakerState.from_json(json.loads(json.dumps(busy_state().to_json())))
    assert on_fill(back, LIMITS, fill("f1", 10, "0.40", fee="0.17"), D("-1.25"), T0) == back
    assert check(back, LIMITS, proposal(), T0).rule is Rule.HALTED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("mode"), "breaker state: field 'mode': missing"),
        (
            lambda d: d.update(mode="paused"),
            "breaker state: field 'mode': 'paused' is not one of active, reducing, halted",
        ),
        (lambda d: d.update(version=9), "breaker state: field 'version': 9 is not the supported 1"),
        (
            lambda d: d["day"].update(fees=0.5),
            "breaker state day: field 'fees': expected a decimal string, got float 0.5",
        ),
        (lambda d: d["day"].update(date="yesterday"), "breaker state day: field 'date': 'yesterday' is not YYYY-MM-DD"),
        (
            lambda d: d.update(since="2026-11-25T18:00:00"),
            "breaker state: field 'since': '2026-11-25T18:00:00' has no time zone",
        ),
        (
            lambda d: d.update(consecutive_losses=-1),
            "breaker state: field 'consecutive_losses': expected a count >= 0, got -1",
        ),
        (lambda d: d.update(killed="yes"), "breaker state: field 'killed': expected true or false, got 'yes'"),
    ],
)
def test_a_malformed_document_is_refused_naming_the_field(change: object, message: str) -> None:
    doc = busy_state().to_json()
    change(doc)  # type: ignore[operator]
    with pytest.raises(RiskError) as err:
        BreakerState.from_json(doc)
    assert str(err.value) == message


def test_a_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(RiskError, match="breaker state: expected a JSON object, got list"):
        BreakerState.from_json([])


def test_reduce_side_helpers() -> None:
    # a NO position of 10 is reduced by selling NO or buying YES
    assert proposal(intent=intent(side=Side.NO, action=Action.SELL), position=-10).reduces
    assert proposal(intent=intent(side=Side.YES, action=Action.BUY), position=-10).reduces
    assert not proposal(intent=intent(side=Side.NO, action=Action.BUY), position=-10).reduces
    assert not proposal(position=0).reduces
