"""Property: any sequence of writes and reopens leaves the store equal to a plain in-memory model of it.

Duplicates, conflicting re-sends, updates of unknown orders and attempts to reopen a final order are mixed
in; each must be refused exactly when the model says so, and a refused write must change nothing.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_records import advanced, fill, intent, settlement

from engine.execution.model import AuditKind, FillRecord, OrderRecord, OrderState, SettlementRecord
from engine.store import DuplicateOrderError, Store, StoreError, open_store

CIDS = ("a", "b")
STATES = tuple(OrderState)

op = st.one_of(  # updates twice: most interesting sequences walk one order through several states
    st.tuples(st.just("intent"), st.sampled_from(CIDS), st.integers(1, 20)),
    st.tuples(st.just("update"), st.sampled_from(CIDS), st.sampled_from(STATES), st.integers(0, 20)),
    st.tuples(st.just("update"), st.sampled_from(CIDS), st.sampled_from(STATES), st.integers(0, 20)),
    st.tuples(st.just("fill"), st.sampled_from(("f1", "f2", "f3")), st.integers(1, 5), st.integers(1, 99)),
    st.tuples(st.just("settle"), st.sampled_from(("T-A", "T-B")), st.sampled_from(("0", "0.50", "1"))),
    st.tuples(st.just("breaker"), st.integers(0, 3)),
    st.tuples(st.just("reopen")),
)


@dataclass
class Model:
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    fills: dict[str, FillRecord] = field(default_factory=dict)
    settlements: dict[str, SettlementRecord] = field(default_factory=dict)
    breaker: dict[str, Any] | None = None
    audit: dict[AuditKind, int] = field(default_factory=dict)
    step: int = 0

    def audited(self, kind: AuditKind) -> None:
        self.audit[kind] = self.audit.get(kind, 0) + 1


async def apply(store: Store, model: Model, action: tuple[Any, ...]) -> None:
    model.step += 1
    t = float(model.step)
    name = action[0]
    if name == "intent":
        new = intent(action[1], seconds=t, count=action[2])
        if action[1] in model.orders:
            try:
                await store.record_intent(new)
            except DuplicateOrderError as exc:
                assert exc.existing == model.orders[action[1]]
            else:
                raise AssertionError("duplicate intent accepted")
            return
        model.orders[action[1]] = await store.record_intent(new)
        model.audited(AuditKind.ORDER)
    elif name == "update":
        known = model.orders.get(action[1])
        base = known or OrderRecord(intent(action[1], seconds=t), OrderState.NEW, intent(seconds=t).created_at)
        target = advanced(base, action[2], t, filled_count=min(action[3], base.intent.count))
        refused = known is None or (known.state.terminal and not action[2].terminal)
        try:
            await store.update_order(target)
        except StoreError:
            assert refused
        else:
            assert not refused
            model.orders[action[1]] = target
            model.audited(AuditKind.ORDER_STATE)
    elif name == "fill":
        new = fill(action[1], seconds=t, count=action[2], price=Decimal(action[3]) / 100)
        old = model.fills.get(action[1])
        try:
            added = await store.record_fill(new)
        except StoreError:
            assert old is not None and old != new
        else:
            assert added is (old is None)
            assert old is None or old == new
            if added:
                model.fills[action[1]] = new
                model.audited(AuditKind.FILL)
    elif name == "settle":
        new = settlement(action[1], action[2], seconds=t)
        old = model.settlements.get(action[1])
        try:
            added = await store.record_settlement(new)
        except StoreError:
            assert old is not None and old.value != new.value
        else:
            assert added is (old is None)
            if added:
                model.settlements[action[1]] = new
                model.audited(AuditKind.SETTLEMENT)
    elif name == "breaker":
        doc = {"state": ("active", "reducing", "halted", "active")[action[1]], "n": action[1]}
        await store.save_breaker(doc, intent(seconds=t).created_at)
        model.breaker = doc


async def check(store: Store, model: Model) -> None:
    assert {r.client_order_id: r for r in await store.orders()} == model.orders
    assert sorted(await store.fills(), key=lambda f: f.fill_id) == sorted(model.fills.values(), key=lambda f: f.fill_id)
    assert {s.ticker: s for s in await store.settlements()} == model.settlements
    assert await store.load_breaker() == model.breaker
    counts: dict[AuditKind, int] = {}
    for event in await store.audit():
        counts[event.kind] = counts.get(event.kind, 0) + 1
    assert counts == model.audit


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=30))
def test_store_matches_its_model_across_reopens(actions: list[tuple[Any, ...]]) -> None:
    async def scenario(db: Path) -> None:
        model = Model()
        store = await open_store(db)
        try:
            for action in actions:
                if action[0] == "reopen":
                    await store.close()
                    store = await open_store(db)
                    await check(store, model)
                else:
                    await apply(store, model, action)
            await check(store, model)
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp) / "arbtui.db"))
