"""A halt survives a restart: the breaker's state written through the real SQLite store, the store closed
and reopened, and the state read back still refuses orders for the same reason, with the same counters."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

from breaker_kit import KEY, LIMITS, T0, fill, intent, proposal, state

from engine.risk import BreakerMode, BreakerState, Rule, check, confirm, hold, kill, on_fill, on_order_sent, resume
from engine.store.factory import open_store


async def test_a_killed_breaker_is_still_killed_after_the_store_is_reopened(tmp_path: Path) -> None:
    st = on_order_sent(state(), LIMITS, intent(), T0)
    st = on_fill(st, LIMITS, fill("f1", 10, "0.50", fee="0.18"), D("-3.00"), T0)
    big = proposal(T0 + timedelta(seconds=5), edge=D("0.40"))
    st = hold(st, big, check(st, LIMITS, big, T0 + timedelta(seconds=5)), T0 + timedelta(seconds=5))
    st = kill(st, "operator pressed k", T0 + timedelta(seconds=6))

    db = tmp_path / "arbtui.db"
    store = await open_store(db)
    try:
        await store.save_breaker(st.to_json(), T0 + timedelta(seconds=6))
    finally:
        await store.close()

    reopened = await open_store(db)
    try:
        doc = await reopened.load_breaker()
    finally:
        await reopened.close()
    assert doc is not None
    back = BreakerState.from_json(doc)
    assert back == st
    assert (back.mode, back.killed, back.reason) == (BreakerMode.HALTED, True, "operator pressed k")
    assert (back.day.trades, back.day.contracts, back.day.fees, back.day.realised_pnl) == (1, 10, D("0.18"), D("-3.18"))
    assert KEY in back.held
    later = T0 + timedelta(minutes=1)
    decision = check(back, LIMITS, proposal(later), later)
    assert (decision.allowed, decision.rule) == (False, Rule.HALTED)
    waiting = check(resume(back, later), LIMITS, proposal(later), later)
    assert (waiting.rule, waiting.hold) == (Rule.SANITY, True)  # resume does not decide for the operator
    assert check(confirm(resume(back, later), KEY), LIMITS, proposal(later), later).allowed
