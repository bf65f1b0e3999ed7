"""A breaker transition whose caller is cancelled while the new state is being written (the account feed shut
down right after it halted): the state stays in force, in memory and in the store, with its reason. The
SQLite write runs on a worker thread that a cancellation does not stop, so putting the older state back in
memory would leave the guard trading while the database says HALTED, and lose the halt's reason."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from execution_kit import T0

from engine.execution.guard import BreakerGuard
from engine.execution.model import AuditKind
from engine.risk.limits import RiskLimits
from engine.risk.state import BreakerMode, BreakerState
from engine.store.base import StoreError
from engine.store.factory import open_store

LIMITS = RiskLimits()


async def _cancelled_mid_write(guard: BreakerGuard, transition: asyncio.Task[None]) -> None:
    await asyncio.sleep(0)  # the transition has swapped its state in and is awaiting the write
    assert not transition.done()
    transition.cancel()
    try:
        await transition
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the transition finished before it could be cancelled")


async def test_a_halt_whose_caller_is_cancelled_mid_write_keeps_its_rule_and_reason(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    try:
        guard = await BreakerGuard.open(store, LIMITS, T0)
        now = T0 + timedelta(seconds=1)
        await _cancelled_mid_write(guard, asyncio.create_task(guard.fail_closed("a fill of no order", now)))
        assert guard.mode is BreakerMode.HALTED
        assert (guard.state.rule, guard.state.reason) == ("reconcile", "reconcile a fill of no order")
        async with asyncio.timeout(5):  # the write, and the audit of the change, finish on their own
            while not await store.audit(kinds=(AuditKind.BREAKER,)):
                await asyncio.sleep(0.01)
        persisted = BreakerState.from_json(await store.load_breaker())
        assert (persisted.mode, persisted.rule) == (BreakerMode.HALTED, "reconcile")
        [change] = [e.data for e in await store.audit(kinds=(AuditKind.BREAKER,))]
        assert change["to"] == "halted" and change["rule"] == "reconcile"
    finally:
        await store.close()


async def test_a_resume_whose_caller_is_cancelled_mid_write_is_what_the_store_holds(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    try:
        guard = await BreakerGuard.open(store, LIMITS, T0)
        await guard.halt("looking", T0)
        await _cancelled_mid_write(guard, asyncio.create_task(guard.resume(T0 + timedelta(seconds=1))))
        async with asyncio.timeout(5):
            while len(await store.audit(kinds=(AuditKind.BREAKER,))) < 2:
                await asyncio.sleep(0.01)
        persisted = BreakerState.from_json(await store.load_breaker())
        assert persisted.mode is guard.mode is BreakerMode.ACTIVE  # memory and store agree
    finally:
        await store.close()


async def test_a_halt_that_cannot_be_written_still_stops_new_orders_and_a_resume_does_not_loosen(
    tmp_path: Path,
) -> None:
    store = await open_store(tmp_path / "s.db")
    guard = await BreakerGuard.open(store, LIMITS, T0)
    await store.close()  # every write now fails with a StoreError
    with pytest.raises(StoreError):
        await guard.fail_closed("a fill of no order", T0)
    assert (guard.mode, guard.state.rule) == (BreakerMode.HALTED, "reconcile")
    with pytest.raises(StoreError):
        await guard.resume(T0)
    assert (guard.mode, guard.state.rule) == (BreakerMode.HALTED, "reconcile")  # the store never heard of it
