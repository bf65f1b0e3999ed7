"""The SQLite store on a fresh file: records round-trip exactly, survive a reopen, and bad writes lose nothing."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from store_records import EVENT, T0, TICKER, advanced, fill, intent, settlement

from engine.execution.model import AuditEvent, AuditKind, OrderState
from engine.store import DuplicateOrderError, Store, StoreError, open_store
from engine.store.sqlite import SqliteStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "arbtui.db"


@pytest.fixture
async def store(db: Path) -> AsyncIterator[Store]:
    opened = await open_store(db)
    yield opened
    await opened.close()


async def test_intent_is_committed_as_new_and_survives_a_reopen(db: Path, store: Store) -> None:
    recorded = await store.record_intent(intent("c1"))
    assert recorded.state is OrderState.NEW
    assert recorded.updated_at == T0
    await store.close()
    reopened = await open_store(db)
    try:
        assert await reopened.order("c1") == recorded
        assert await reopened.orders() == [recorded]
    finally:
        await reopened.close()


async def test_a_second_intent_with_the_same_client_order_id_is_refused_and_the_first_is_kept(store: Store) -> None:
    first = await store.record_intent(intent("c1"))
    await store.update_order(advanced(first, OrderState.SENT, 1))
    with pytest.raises(DuplicateOrderError, match="c1 is already recorded \\(state sent\\)") as info:
        await store.record_intent(intent("c1", count=99))
    assert info.value.existing.state is OrderState.SENT
    assert info.value.existing.intent.count == 10
    assert [r.intent.count for r in await store.orders()] == [10]
    assert len(await store.audit(kinds=[AuditKind.ORDER])) == 1


async def test_every_state_change_is_stored_and_audited_with_its_predecessor(db: Path, store: Store) -> None:
    rec = await store.record_intent(intent("c1"))
    rec = advanced(rec, OrderState.SENT, 1)
    await store.update_order(rec)
    rec = advanced(rec, OrderState.ACKED, 2, exchange_order_id="ex-9")
    await store.update_order(rec)
    rec = advanced(rec, OrderState.PARTIAL, 3, filled_count=4, filled_cost=Decimal("1.64"), fees=Decimal("0.07"))
    await store.update_order(rec)
    rec = advanced(rec, OrderState.CANCELLED, 4, reason="ioc remainder")
    await store.update_order(rec)
    await store.close()

    reopened = await open_store(db)
    try:
        assert await reopened.order("c1") == rec
        states = [(e.data["previous"], e.data["state"]) for e in await reopened.audit(kinds=[AuditKind.ORDER_STATE])]
        assert states == [("new", "sent"), ("sent", "acked"), ("acked", "partial"), ("partial", "cancelled")]
        last = (await reopened.audit(kinds=[AuditKind.ORDER_STATE]))[-1]
        assert last.data["filled_cost"] == "1.64"
        assert last.data["reason"] == "ioc remainder"
        assert last.ts == T0 + timedelta(seconds=4)
    finally:
        await reopened.close()


async def test_update_of_an_unknown_order_or_a_changed_intent_is_refused(store: Store) -> None:
    rec = await store.record_intent(intent("c1"))
    with pytest.raises(StoreError, match="order c2 is not in the store"):
        await store.update_order(replace(rec, intent=intent("c2")))
    with pytest.raises(StoreError, match="intent differs"):
        await store.update_order(replace(rec, intent=intent("c1", limit_price=Decimal("0.43")), state=OrderState.SENT))
    assert await store.order("c1") == rec
    assert await store.audit(kinds=[AuditKind.ORDER_STATE]) == []


async def test_a_final_state_never_reopens_but_may_gain_late_fill_totals(store: Store) -> None:
    rec = advanced(await store.record_intent(intent("c1")), OrderState.CANCELLED, 1)
    await store.update_order(rec)
    with pytest.raises(StoreError, match="c1 is cancelled, a final state; it cannot become acked"):
        await store.update_order(advanced(rec, OrderState.ACKED, 2))
    late = advanced(rec, OrderState.CANCELLED, 2, filled_count=2, filled_cost=Decimal("0.84"))
    await store.update_order(late)
    assert await store.order("c1") == late


async def test_overfilled_or_naive_records_are_refused_before_anything_is_written(store: Store) -> None:
    with pytest.raises(StoreError, match="no time zone"):
        await store.record_intent(intent("c1", created_at=T0.replace(tzinfo=None)))
    with pytest.raises(StoreError, match="count must be positive"):
        await store.record_intent(intent("c1", count=0))
    with pytest.raises(StoreError, match=re.escape("limit_price 1.5 is outside 0..1")):
        await store.record_intent(intent("c1", limit_price=Decimal("1.5")))
    with pytest.raises(StoreError, match="finite Decimal"):
        await store.record_intent(intent("c1", limit_price=Decimal("NaN")))
    assert await store.orders() == []
    rec = await store.record_intent(intent("c1"))
    with pytest.raises(StoreError, match="filled 11 of 10 contracts"):
        await store.update_order(advanced(rec, OrderState.FILLED, 1, filled_count=11))
    assert await store.order("c1") == rec
    assert len(await store.audit()) == 1


async def test_orders_filter_by_state_and_ticker_in_creation_order(store: Store) -> None:
    other = "KXNBAGAME-26NOV26LALBOS-LAL"
    a = await store.record_intent(intent("a", seconds=2))
    b = await store.record_intent(intent("b", seconds=1, ticker=other))
    c = await store.record_intent(intent("c", seconds=3))
    c = advanced(c, OrderState.UNKNOWN, 4, reason="timeout after send")
    await store.update_order(c)
    assert [r.client_order_id for r in await store.orders()] == ["b", "a", "c"]
    assert await store.orders(states=[OrderState.UNKNOWN, OrderState.SENT]) == [c]
    assert await store.orders(ticker=other) == [b]
    assert await store.orders(states={OrderState.NEW}, ticker=TICKER) == [a]
    assert await store.orders(states=[]) == []


async def test_fills_are_idempotent_by_fill_id_and_a_conflicting_duplicate_is_an_error(db: Path, store: Store) -> None:
    f1 = fill("f1", seconds=1)
    f2 = fill("f2", seconds=2, count=6, price=Decimal("0.4150"), fee=Decimal("0.11"), is_taker=False)
    assert await store.record_fill(f1) is True
    assert await store.record_fill(f2) is True
    assert await store.record_fill(f1) is False
    with pytest.raises(StoreError, match="fill f1 is already recorded with different contents"):
        await store.record_fill(replace(f1, count=5))
    await store.close()

    reopened = await open_store(db)
    try:
        assert await reopened.fills() == [f1, f2]
        assert (await reopened.fills())[1].price == Decimal("0.4150")
        assert str((await reopened.fills())[1].price) == "0.4150"
        assert await reopened.fills(since=T0 + timedelta(seconds=2)) == [f2]
        assert await reopened.fills(client_order_id="c1", ticker=TICKER) == [f1, f2]
        assert await reopened.fills(ticker="OTHER") == []
        audited = await reopened.audit(kinds=[AuditKind.FILL])
        assert [(e.data["fill_id"], e.data["count"], e.data["price"], e.data["fee"]) for e in audited] == [
            ("f1", 4, "0.41", "0.07"),
            ("f2", 6, "0.4150", "0.11"),
        ]
    finally:
        await reopened.close()


async def test_settlements_are_idempotent_by_ticker_including_an_nfl_tie(store: Store) -> None:
    tie = settlement(value="0.50", revenue=Decimal("5.00"))
    assert await store.record_settlement(tie) is True
    assert await store.record_settlement(tie) is False
    with pytest.raises(StoreError, match=r"already settled at 0\.50 .* refusing 1"):
        await store.record_settlement(settlement(value="1", revenue=Decimal("5.00")))
    with pytest.raises(StoreError, match=re.escape("value 2 is outside 0..1")):
        await store.record_settlement(settlement(ticker="X", value="2"))
    assert await store.settlements() == [tie]
    [event] = await store.audit(kinds=[AuditKind.SETTLEMENT])
    assert event.ticker == TICKER
    assert event.data == {"event_ticker": EVENT, "value": "0.50", "revenue": "5.00"}


async def test_breaker_document_is_replaced_and_survives_a_reopen(db: Path, store: Store) -> None:
    assert await store.load_breaker() is None
    await store.save_breaker({"state": "active", "counters": {"trades": 1}}, T0)
    halted = {"state": "halted", "reason": "daily_loss 96.40 + 7.10 at risk > 100.00", "loss": Decimal("96.40")}
    await store.save_breaker(halted, T0 + timedelta(seconds=1))
    await store.close()
    reopened = await open_store(db)
    try:
        assert await reopened.load_breaker() == {**halted, "loss": "96.40"}
    finally:
        await reopened.close()


async def test_breaker_document_that_is_not_json_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="breaker state is not JSON-ready: object is not JSON-ready"):
        await store.save_breaker({"state": object()}, T0)
    assert await store.load_breaker() is None


async def test_audit_filters_by_time_market_and_kind_in_time_order(store: Store) -> None:
    east = timezone(timedelta(hours=-5))
    decision = AuditEvent(
        ts=T0.astimezone(east) + timedelta(seconds=5),
        kind=AuditKind.DECISION,
        ticker=TICKER,
        data={"allowed": False, "rule": "daily_loss", "detail": "daily_loss 96.40 + 7.10 at risk > 100.00"},
    )
    signal = AuditEvent(
        ts=T0,
        kind=AuditKind.SIGNAL,
        ticker=TICKER,
        data={"edge": Decimal("0.031"), "book": [["0.41", 120]], "quotes": {"draftkings": -150}},
    )
    halt = AuditEvent(ts=T0 + timedelta(seconds=9), kind=AuditKind.HALT, data={"reason": "operator"})
    for event in (decision, halt, signal):
        await store.append_audit(event)
    await store.record_profile_change("AGGRESSIVE", {"min_edge": Decimal("0.02")}, T0 + timedelta(seconds=7))

    kinds = [e.kind for e in await store.audit()]
    assert kinds == [AuditKind.SIGNAL, AuditKind.DECISION, AuditKind.PROFILE, AuditKind.HALT]
    assert [e.kind for e in await store.audit(ticker=TICKER)] == [AuditKind.SIGNAL, AuditKind.DECISION]
    assert [e.kind for e in await store.audit(since=T0 + timedelta(seconds=5))] == kinds[1:]
    assert [e.kind for e in await store.audit(kinds=[AuditKind.HALT, AuditKind.PROFILE])] == kinds[2:]
    stored_decision = (await store.audit(kinds=[AuditKind.DECISION]))[0]
    assert stored_decision == decision
    assert (await store.audit(kinds=[AuditKind.SIGNAL]))[0].data["edge"] == "0.031"
    profile = (await store.audit(kinds=[AuditKind.PROFILE]))[0]
    assert profile.data == {"profile": "AGGRESSIVE", "overrides": {"min_edge": "0.02"}}
    assert await store.audit(kinds=[]) == []


async def test_audit_events_missing_their_kinds_fields_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="audit event decision lacks rule, detail"):
        await store.append_audit(AuditEvent(ts=T0, kind=AuditKind.DECISION, data={"allowed": True}))
    with pytest.raises(StoreError, match="audit event order lacks client_order_id"):
        await store.append_audit(AuditEvent(ts=T0, kind=AuditKind.ORDER, data={}))
    with pytest.raises(StoreError, match="no time zone"):
        await store.append_audit(AuditEvent(ts=T0.replace(tzinfo=None), kind=AuditKind.HALT))
    assert await store.audit() == []


async def test_a_closed_store_refuses_calls_and_closing_twice_is_harmless(store: Store) -> None:
    await store.close()
    await store.close()
    with pytest.raises(StoreError, match="is closed"):
        await store.orders()


async def test_the_file_is_in_wal_mode_and_commits_sync_fully(db: Path) -> None:
    store = await SqliteStore.open(db)
    try:
        assert await store.durability() == {"journal_mode": "wal", "synchronous": "full"}
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


async def test_a_reader_sees_committed_writes_while_the_writer_stays_open(db: Path, store: Store) -> None:
    await store.record_intent(intent("c1"))
    reader = await open_store(db)
    try:
        assert [r.client_order_id for r in await reader.orders()] == ["c1"]
        await store.record_fill(fill("f1"))
        assert len(await reader.fills()) == 1
    finally:
        await reader.close()
