"""Every way the breaker's state changes, each a pure function returning the new state.

The caller persists the returned state before acting on it. Trips only ever tighten: a rule moves ACTIVE to
REDUCING or anything to HALTED, never the other way; HALTED is left only by :func:`resume`, and REDUCING
set by a daily cap is lifted only by the midnight roll-over (:func:`roll_day`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from engine.execution.model import FillRecord, OrderIntent, SettlementRecord
from engine.money import money_str
from engine.risk.limits import RiskLimits
from engine.risk.proposal import Decision, OrderProposal, Rule
from engine.risk.state import RATE_WINDOW, BreakerMode, BreakerState, DailyCounters, HeldSignal, RiskError, local_day

OPERATOR = "operator"
KILL = "kill"
DAILY_CAP_RULES = frozenset({Rule.DAILY_TRADES.value, Rule.DAILY_CONTRACTS.value, Rule.DAILY_FEES.value})


def initial_state(limits: RiskLimits, now: datetime) -> BreakerState:
    """A fresh ACTIVE breaker for the trading day ``now`` falls in (first start, nothing persisted)."""
    return BreakerState(mode=BreakerMode.ACTIVE, since=now, day=DailyCounters(local_day(now, limits.zone)))


def roll_day(state: BreakerState, limits: RiskLimits, now: datetime) -> BreakerState:
    """Start a new day's counters once ``now`` is past midnight in the limits' time zone.

    A REDUCING mode that a daily cap set is lifted; HALTED stays HALTED (only ``resume`` leaves it). A clock
    that went backwards never rolls the day back.
    """
    today = local_day(now, limits.zone)
    if today <= state.day.day:
        return state
    new = replace(state, day=DailyCounters(today))
    if state.mode is BreakerMode.REDUCING and state.rule in DAILY_CAP_RULES:
        new = replace(new, mode=BreakerMode.ACTIVE, reason="", rule="", since=now)
    return new


def on_order_sent(state: BreakerState, limits: RiskLimits, intent: OrderIntent, now: datetime) -> BreakerState:
    """Count an order that left (today's trades, the rate windows); the daily trade cap trips REDUCING."""
    state = roll_day(state, limits, now)
    recent = (*(t for t in state.recent_orders if now - t < RATE_WINDOW), now)
    horizon = max(RATE_WINDOW, limits.min_order_gap)
    last = {k: t for k, t in state.last_order_at.items() if now - t < horizon}
    last[intent.ticker] = now
    day = replace(state.day, trades=state.day.trades + 1)
    state = replace(state, day=day, recent_orders=recent, last_order_at=last)
    if day.trades >= limits.max_daily_trades:
        state = _trip(state, BreakerMode.REDUCING, Rule.DAILY_TRADES, f"{day.trades} >= {limits.max_daily_trades}", now)
    return state


def on_fill(
    state: BreakerState, limits: RiskLimits, fill: FillRecord, realised: Decimal, now: datetime
) -> BreakerState:
    """Count a fill once (by ``fill_id``) in the day it happened; ``realised`` is the gross P&L it closed.

    A fill from an earlier day (a replay after restart) changes nothing: its day is over. The daily loss limit
    trips HALTED; the daily contract and fee caps trip REDUCING.
    """
    if fill.count <= 0 or fill.fee < 0:
        raise RiskError(f"fill {fill.fill_id}: count {fill.count} must be > 0 and fee {fill.fee} >= 0")
    state = roll_day(state, limits, max(now, fill.ts))
    day = state.day
    if fill.fill_id in day.fill_ids or local_day(fill.ts, limits.zone) != day.day:
        return state
    day = replace(
        day,
        realised_pnl=day.realised_pnl + realised - fill.fee,
        contracts=day.contracts + fill.count,
        fees=day.fees + fill.fee,
        fill_ids=day.fill_ids | {fill.fill_id},
    )
    state = replace(state, day=day)
    state = _trip_daily_loss(state, limits, now)
    if day.contracts >= limits.max_daily_contracts:
        detail = f"{day.contracts} >= {limits.max_daily_contracts}"
        state = _trip(state, BreakerMode.REDUCING, Rule.DAILY_CONTRACTS, detail, now)
    if day.fees >= limits.max_daily_fees:
        detail = f"{money_str(day.fees)} >= {money_str(limits.max_daily_fees)}"
        state = _trip(state, BreakerMode.REDUCING, Rule.DAILY_FEES, detail, now)
    return state


def on_settlement(
    state: BreakerState,
    limits: RiskLimits,
    settlement: SettlementRecord,
    realised: Decimal,
    market_pnl: Decimal,
    now: datetime,
) -> BreakerState:
    """Count a settlement once (by ticker) in the day it happened.

    ``realised`` is what the settlement itself realised (revenue minus the settled contracts' cost) and goes
    into today's P&L; ``market_pnl`` is the market's whole net result, fees included, which decides whether
    it was a losing trade: a loss extends the streak, a win ends it, a flat result leaves it alone.
    """
    state = roll_day(state, limits, max(now, settlement.ts))
    day = state.day
    if settlement.ticker in day.settled or local_day(settlement.ts, limits.zone) != day.day:
        return state
    day = replace(day, realised_pnl=day.realised_pnl + realised, settled=day.settled | {settlement.ticker})
    streak = state.consecutive_losses
    if market_pnl < 0:
        streak += 1
    elif market_pnl > 0:
        streak = 0
    state = replace(state, day=day, consecutive_losses=streak)
    state = _trip_daily_loss(state, limits, now)
    if streak >= limits.max_consecutive_losses:
        detail = f"{streak} losing settlements in a row >= {limits.max_consecutive_losses}"
        state = _trip(state, BreakerMode.HALTED, Rule.CONSECUTIVE_LOSSES, detail, now)
    return state


def halt(state: BreakerState, reason: str, now: datetime, rule: str = OPERATOR) -> BreakerState:
    """No new orders; resting orders stay. A second halt keeps the first one's reason."""
    return _trip(state, BreakerMode.HALTED, rule, reason, now)


def kill(state: BreakerState, reason: str, now: datetime) -> BreakerState:
    """Halt and mark the order groups to be triggered; the executor cancels and triggers, the state records it."""
    state = replace(state, killed=True)
    if state.mode is BreakerMode.HALTED:
        return replace(state, rule=KILL, reason=f"{reason} (after: {state.reason})" if state.reason else reason)
    return replace(state, mode=BreakerMode.HALTED, rule=KILL, reason=reason, since=now)


def reduce_only(state: BreakerState, reason: str, now: datetime) -> BreakerState:
    """The operator allows only reductions from now on (a HALTED breaker stays HALTED)."""
    return _trip(state, BreakerMode.REDUCING, OPERATOR, reason, now)


def resume(state: BreakerState, now: datetime) -> BreakerState:
    """Back to ACTIVE with new order groups; the operator's resume also ends the losing streak.

    Daily counters are untouched: a day whose loss limit is spent still refuses new risk until midnight.
    """
    return replace(
        state,
        mode=BreakerMode.ACTIVE,
        reason="",
        rule="",
        since=now,
        killed=False,
        group_epoch=state.group_epoch + 1,
        consecutive_losses=0,
    )


DATA_AGE_RULES = frozenset({Rule.BOOK_AGE.value, Rule.FEED_SILENT.value})
"""Trips the Kalshi feed's condition sets and lifts: REDUCING while it is stalled, ACTIVE again once it flows."""


def data_stale(state: BreakerState, rule: Rule, detail: str, now: datetime) -> BreakerState:
    """The Kalshi feed stalled while connected: ``book_age`` (nothing arrives at all) or ``feed_silent``
    (ticker messages arrive, book changes do not). Only reductions pass until :func:`data_fresh`; it is a
    condition of the data, not a loss, so it lifts by itself. A HALTED breaker stays HALTED."""
    if rule.value not in DATA_AGE_RULES:
        raise RiskError(f"{rule.value} is not a data-age rule ({', '.join(sorted(DATA_AGE_RULES))})")
    return _trip(state, BreakerMode.REDUCING, rule, detail, now)


def data_fresh(state: BreakerState, now: datetime) -> BreakerState:
    """The feed flows again: a REDUCING mode that a data-age rule set is lifted; any other mode stays."""
    if state.mode is BreakerMode.REDUCING and state.rule in DATA_AGE_RULES:
        return replace(state, mode=BreakerMode.ACTIVE, reason="", rule="", since=now)
    return state


def book_mismatch(state: BreakerState, detail: str, now: datetime) -> BreakerState:
    """The local book still disagrees with the exchange's own ticker prices after a fresh snapshot: the book
    cannot be trusted and the cause is unknown, so HALTED until the operator has looked and resumes."""
    return _trip(state, BreakerMode.HALTED, Rule.BOOK_MISMATCH, detail, now)


def event_legged(state: BreakerState, event_ticker: str, reason: str) -> BreakerState:
    """Only reductions on this event until it is flat or hedged (a Kalshi arbitrage that filled one leg)."""
    return replace(state, reducing_events={**state.reducing_events, event_ticker: reason})


def event_cleared(state: BreakerState, event_ticker: str) -> BreakerState:
    """The legged event is flat or hedged again."""
    return replace(state, reducing_events={k: v for k, v in state.reducing_events.items() if k != event_ticker})


def hold(state: BreakerState, proposal: OrderProposal, decision: Decision, now: datetime) -> BreakerState:
    """Put a signal the sanity rule refused into the held set (once; the first detail is kept)."""
    key = proposal.intent.signal_key
    if not decision.hold or key in state.held:
        return state
    held = HeldSignal(key, proposal.intent.ticker, decision.detail, now)
    return replace(state, held={**state.held, key: held})


def confirm(state: BreakerState, signal_key: str) -> BreakerState:
    """The operator vouches for the signal: the sanity rule lets it through from now on."""
    return replace(
        state,
        held=_without(state.held, signal_key),
        confirmed=state.confirmed | {signal_key},
        blocked=state.blocked - {signal_key},
    )


def block(state: BreakerState, signal_key: str) -> BreakerState:
    """The operator refuses the signal: it is never traded (until confirmed)."""
    return replace(
        state,
        held=_without(state.held, signal_key),
        blocked=state.blocked | {signal_key},
        confirmed=state.confirmed - {signal_key},
    )


def _without(held: Mapping[str, HeldSignal], key: str) -> dict[str, HeldSignal]:
    return {k: v for k, v in held.items() if k != key}


def _trip_daily_loss(state: BreakerState, limits: RiskLimits, now: datetime) -> BreakerState:
    loss = state.day.loss
    if loss >= limits.max_daily_loss:
        detail = f"{money_str(loss)} >= {money_str(limits.max_daily_loss)}"
        return _trip(state, BreakerMode.HALTED, Rule.DAILY_LOSS, detail, now)
    return state


def _trip(state: BreakerState, mode: BreakerMode, rule: str, detail: str, now: datetime) -> BreakerState:
    """Tighten to ``mode``; never loosen, and keep the reason of a halt already in force."""
    if state.mode is BreakerMode.HALTED or (state.mode is mode):
        return state
    return replace(
        state, mode=mode, rule=str(rule), reason=f"{rule} {detail}" if rule != OPERATOR else detail, since=now
    )
