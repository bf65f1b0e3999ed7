"""Property: whatever the sequence of signals, fills, settlements, operator verbs, day changes and restarts,
``check`` never lets an order past a limit.

Each limit is re-derived from the test's own history (orders it sent, the ledger's day, the ledger's
exposure), not read back from the breaker, so a breaker that forgot to count something is caught.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal as D

from breaker_kit import T0, fresh_feed, intent, settlement
from hypothesis import event as note
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.detection.signals import Side
from engine.execution.model import Action, FillRecord, Mode
from engine.portfolio import Ledger, MarketRef, apply_fill, apply_settlement, exposure
from engine.pricing.fees import DEFAULT_FEES
from engine.risk import (
    BreakerMode,
    BreakerState,
    OrderProposal,
    RiskLimits,
    check,
    halt,
    initial_state,
    on_fill,
    on_order_sent,
    on_settlement,
    resume,
)
from engine.risk.state import local_day

LIMITS = RiskLimits(
    max_trade_contracts=30,
    max_trade_risk=D(15),
    max_daily_loss=D(12),
    max_daily_trades=12,
    max_daily_contracts=150,
    max_daily_fees=D("2.50"),
    max_consecutive_losses=3,
    bankroll=D(400),
    max_event_exposure=D("0.06"),
    max_league_exposure=D("0.08"),
    max_total_exposure=D("0.14"),
    max_orders_per_minute=6,
    min_order_gap=timedelta(seconds=2),
    min_cash_reserve=D(5),
)
START = D(50)
MARKETS = [
    ("KXA-1", "EVA", "NFL"),
    ("KXA-2", "EVA", "NFL"),
    ("KXB-1", "EVB", "NFL"),
    ("KXC-1", "EVC", "NBA"),
    ("KXC-2", "EVC", "NBA"),
    ("KXD-1", "EVD", "NBA"),
]
STEPS = [0, 0.4, 1, 2, 3, 3, 3, 30, 61, 3600, 6 * 3600]


@dataclass
class History:
    sent: list[tuple[datetime, str]] = field(default_factory=list)
    operator_halted: bool = False
    streak: int = 0
    settled: set[str] = field(default_factory=set)

    def trades_on(self, day: date) -> int:
        return sum(1 for t, _ in self.sent if local_day(t, LIMITS.zone) == day)


KINDS = ["halt", "resume", "resume", "settle", "settle", "restart", "restart"] + ["order"] * 33
ops = st.tuples(
    st.sampled_from(KINDS),
    st.tuples(
        st.integers(0, len(MARKETS) - 1),
        st.sampled_from(Side),
        st.sampled_from([False, False, False, True]),  # reduce the position held instead of buying
        st.integers(1, 32),
        st.integers(1, 99),
        st.sampled_from([D("0.02"), D("0.05"), D("0.14"), D("0.15"), D("0.16")]),
    ),
    st.sampled_from(["0", "1", "0.5"]),
)


def build(
    lg: Ledger, market: int, side: Side, reduce: bool, count: int, cents: int, edge: D, now: datetime
) -> OrderProposal:
    ticker, event, league = MARKETS[market]
    held = lg.positions.get(ticker)
    position = 0 if held is None else held.yes_position
    action = Action.BUY
    if reduce and position:
        side = Side.YES if position > 0 else Side.NO
        action = Action.SELL
        count = min(count, abs(position))
    price = D(cents) / 100
    unit = price if action is Action.BUY else 1 - price
    i = intent(
        ticker=ticker, event_ticker=event, league=league, side=side, action=action, count=count, limit_price=price,
        created_at=now, signal_key=f"edge|{ticker}|{side.value}",
    )  # fmt: skip
    return OrderProposal(
        intent=i,
        cost=unit * count,
        fees=DEFAULT_FEES.trade_fee(price, D(count)),
        feed=fresh_feed(now),
        quotes_at=now,
        edge=edge,
        shard_cash=lg.cash,
        exposure=exposure(lg, event, league),
        position=position,
    )


def assert_within_limits(p: OrderProposal, lg: Ledger, history: History, now: datetime) -> None:
    """What an allowed order must satisfy, computed without the breaker's own counters."""
    i = p.intent
    assert not history.operator_halted
    assert p.edge is None or p.edge <= LIMITS.max_edge
    assert i.count <= LIMITS.max_trade_contracts
    assert sum(1 for t, _ in history.sent if now - t < timedelta(minutes=1)) < LIMITS.max_orders_per_minute
    assert sum(1 for t, _ in history.sent if now - t < timedelta(seconds=1)) < LIMITS.max_orders_per_second
    assert all(now - t >= LIMITS.min_order_gap for t, k in history.sent if k == i.ticker)
    if p.reduces:
        return
    today = local_day(now, LIMITS.zone)
    day = lg.days.get(today)
    loss = max(D(0), -(day.net if day else D(0)))
    assert p.at_risk <= LIMITS.max_trade_risk
    assert loss + p.at_risk <= LIMITS.max_daily_loss
    assert history.trades_on(today) + 1 <= LIMITS.max_daily_trades
    assert (day.contracts if day else 0) + i.count <= LIMITS.max_daily_contracts
    assert (day.fees if day else D(0)) + p.fees <= LIMITS.max_daily_fees
    assert history.streak < LIMITS.max_consecutive_losses
    e = exposure(lg, i.event_ticker, i.league)
    assert e.event + p.at_risk <= LIMITS.bankroll * LIMITS.max_event_exposure
    assert e.league + p.at_risk <= LIMITS.bankroll * LIMITS.max_league_exposure
    assert e.total + p.at_risk <= LIMITS.bankroll * LIMITS.max_total_exposure
    assert lg.cash >= p.at_risk + LIMITS.min_cash_reserve


@settings(max_examples=300, deadline=None)
@given(st.lists(ops, min_size=15, max_size=60), st.lists(st.sampled_from(STEPS), min_size=60, max_size=60))
def test_check_never_allows_an_order_past_a_limit(
    sequence: list[tuple[str, tuple[int, Side, bool, int, int, D], str]], steps: list[float]
) -> None:
    now = T0
    state = initial_state(LIMITS, now)
    lg = Ledger.start(START)
    history = History()
    allowed = 0
    rejected: set[str] = set()
    for n, ((kind, order, value), step) in enumerate(zip(sequence, steps, strict=False)):
        now += timedelta(seconds=step)
        if kind == "order":
            market, side, reduce, count, cents, edge = order
            if MARKETS[market][0] in history.settled:
                continue
            p = build(lg, market, side, reduce, count, cents, edge, now)
            decision = check(state, LIMITS, p, now)
            if not decision.allowed:
                assert decision.detail.startswith(decision.rule.value)
                rejected.add(decision.rule.value + (":" + state.rule if decision.rule.value == "halted" else ""))
                continue
            allowed += 1
            assert_within_limits(p, lg, history, now)
            state = on_order_sent(state, LIMITS, p.intent, now)
            history.sent.append((now, p.intent.ticker))
            i = p.intent
            f = FillRecord(
                f"f{n}", i.client_order_id, i.ticker, i.side, i.action, i.count, i.limit_price, p.fees, now, Mode.PAPER
            )
            result = apply_fill(lg, f, MarketRef(i.event_ticker, i.league))
            lg = result.ledger
            state = on_fill(state, LIMITS, f, result.realised, now)
        elif kind == "settle":
            market = order[0]
            ticker, event, _ = MARKETS[market]
            s = settlement(value, ticker=ticker, event=event, ts=now)
            res = apply_settlement(lg, s)
            lg = res.ledger
            if res.applied:
                history.settled.add(ticker)
                if res.market_pnl < 0:
                    history.streak += 1
                elif res.market_pnl > 0:
                    history.streak = 0
            state = on_settlement(state, LIMITS, s, res.realised, res.market_pnl, now)
        elif kind == "halt":
            state = halt(state, "operator", now)
            history.operator_halted = True
        elif kind == "resume":
            state = resume(state, now)
            history.operator_halted = False
            history.streak = 0
        elif kind == "restart":
            state = BreakerState.from_json(json.loads(json.dumps(state.to_json())))
        assert state.mode is not BreakerMode.ACTIVE or not history.operator_halted
    for rule in rejected:
        note(f"rejected by {rule}")
    note(f"orders allowed: {min(allowed, 10)}{'+' if allowed >= 10 else ''}")
