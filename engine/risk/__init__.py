"""The circuit breaker: pure decisions over an explicit state, checked on every order before it leaves.

``check(state, limits, proposal, now) -> Decision``; transitions (``on_order_sent``, ``on_fill``,
``on_settlement``, ``halt``, ``kill``, ``resume``, ``roll_day``...) return the new state for the caller to
persist (``BreakerState.to_json``) before acting.
"""

from engine.risk.check import check
from engine.risk.limits import RiskLimits
from engine.risk.proposal import ALLOW, Decision, Exposure, FeedState, OrderProposal, Pending, Rule
from engine.risk.state import BreakerMode, BreakerState, DailyCounters, HeldSignal, RiskError
from engine.risk.transitions import (
    block,
    confirm,
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

__all__ = [
    "ALLOW",
    "BreakerMode",
    "BreakerState",
    "DailyCounters",
    "Decision",
    "Exposure",
    "FeedState",
    "HeldSignal",
    "OrderProposal",
    "Pending",
    "RiskError",
    "RiskLimits",
    "Rule",
    "block",
    "check",
    "confirm",
    "event_cleared",
    "event_legged",
    "halt",
    "hold",
    "initial_state",
    "kill",
    "on_fill",
    "on_order_sent",
    "on_settlement",
    "reduce_only",
    "resume",
    "roll_day",
]
