"""Restart recovery: a process SIGKILLed between sending an order and its acknowledgement restarts,
reconciles against the exchange, and holds exactly the exchange's positions with no duplicate order."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from clientkit import eventually, game_in
from execution_stack import open_stack, order_for

from engine.execution.model import AuditKind, Mode, OrderState
from engine.execution.recovery import recover
from engine.risk.state import BreakerMode

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent


async def _line(proc: asyncio.subprocess.Process, timeout_s: float = 20.0) -> str:
    assert proc.stdout is not None
    raw = await asyncio.wait_for(proc.stdout.readline(), timeout_s)
    return raw.decode().strip()


async def test_sigkill_between_send_and_ack_then_restart_reconciles(wall_sim: Any, tmp_path: Path) -> None:
    sim = wall_sim
    game = game_in(sim, "nba")
    ticker = game.home_ticker
    best = sim.exchange.orderbook(ticker).asks("yes")[0]
    count = min(int(best.count), 40)
    intent = order_for(sim, ticker, Mode.LIVE, count=count, limit=best.price, key="sigkill")
    db = tmp_path / "arbtui.db"
    spec = {
        "db": str(db), "url": sim.kalshi_url, "key_id": sim.key_id, "key_path": str(sim.private_key_path),
        "client_order_id": intent.client_order_id, "ticker": ticker, "event_ticker": intent.event_ticker,
        "league": intent.league, "count": str(count), "limit": str(best.price), "signal_key": intent.signal_key,
        "exchange_index": str(intent.exchange_index), "series_ticker": game.series_ticker,
    }  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)])}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "execution_child.py"), json.dumps(spec),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert await _line(proc) == "READY"
        sim.faults.hold_next_order_ack(3.0)  # the order is placed; its acknowledgement is held back
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
        assert await _line(proc) == f"SENT {intent.client_order_id}"
        # the request reached the exchange and the order stands; the child still waits for the answer
        await eventually(lambda: bool(sim.exchange.orders_with_client_id(intent.client_order_id)), timeout_s=5)
        proc.send_signal(signal.SIGKILL)
        assert await proc.wait() == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    placed = sim.exchange.orders_with_client_id(intent.client_order_id)
    assert len(placed) == 1 and placed[0].filled == D(count)  # the order stands although nobody heard back

    restarted = await open_stack(sim, db, Mode.LIVE)
    try:
        before = await restarted.store.order(intent.client_order_id)
        assert before is not None and before.state is OrderState.SENT  # what the killed process left
        report = await recover(restarted.manager, restarted.rest, restarted.guard, sim.clock.now)
        assert report.ok, report.mismatches
        assert report.resolved == (intent.client_order_id,) and report.unknown == ()
        record = await restarted.store.order(intent.client_order_id)
        assert record is not None and record.state is OrderState.FILLED and record.filled_count == count
        exchange_position = sim.exchange.position(ticker)
        assert exchange_position is not None and exchange_position.position == D(count)
        assert report.positions == {ticker: count}
        assert sum(f.count for f in await restarted.store.fills(ticker=ticker)) == count
        assert restarted.guard.mode is BreakerMode.ACTIVE
        # a retry of the same decision after the restart is not a second order
        await restarted.manager.load()
        again = await restarted.place(intent)
        assert not again.allowed and again.rule == "duplicate"
        assert len(sim.exchange.orders_with_client_id(intent.client_order_id)) == 1
        assert [r.client_order_id for r in await restarted.store.orders()] == [intent.client_order_id]
        assert AuditKind.RECONCILE in {e.kind for e in await restarted.store.audit()}
    finally:
        await restarted.close()


async def test_an_unexplained_position_starts_halted(sim: Any, tmp_path: Path) -> None:
    """A fill the store knows nothing about (an order placed by someone else on the account) cannot be
    explained: recovery fails closed."""
    ticker = game_in(sim, "nhl").home_ticker
    best = sim.exchange.orderbook(ticker).asks("yes")[0]
    sim.exchange.place_order(
        ticker=ticker, book_side="bid", price=best.price, count=D(2), time_in_force="immediate_or_cancel",
        post_only=False, self_trade_prevention="taker_at_cross", client_order_id="not-ours", order_group_id="",
        expiration_ts=None, now=sim.clock.now(),
    )  # fmt: skip
    stack = await open_stack(sim, tmp_path / "arbtui.db", Mode.LIVE)
    try:
        report = await recover(stack.manager, stack.rest, stack.guard, sim.clock.now)
        assert not report.ok and f"position {ticker}: store 0, exchange 2" in report.mismatches[0]
        assert stack.guard.mode is BreakerMode.HALTED and "reconciliation" in stack.guard.state.reason
        reopened = await stack.store.load_breaker()
        assert reopened is not None and reopened["mode"] == "halted"
    finally:
        await stack.close()
