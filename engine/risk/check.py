"""The circuit breaker's decision: may this order leave now?

``check`` is pure: the state, the limits, the proposal and ``now`` in, one :class:`Decision` out, naming the
first rule that refuses and its numbers. Rules run from the most absolute (a halt) to the most specific, so
the reason an operator reads is the one that matters. Orders that only reduce a position skip the rules that
guard new risk (per-trade dollars, daily loss and caps, exposure, cash): getting out must stay possible when
getting in is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from engine.money import money_str, price_str
from engine.risk.limits import RiskLimits
from engine.risk.proposal import ALLOW, Decision, OrderProposal, Rule
from engine.risk.state import RATE_WINDOW, BreakerMode, BreakerState
from engine.risk.transitions import roll_day

ONE_SECOND = timedelta(seconds=1)
_Check = Callable[[BreakerState, RiskLimits, OrderProposal, datetime], Decision | None]


def check(state: BreakerState, limits: RiskLimits, proposal: OrderProposal, now: datetime) -> Decision:
    """Allow, or reject with the first failing rule. ``now`` must be timezone-aware."""
    if now.tzinfo is None:
        return _no(Rule.INVALID, "invalid: the decision time has no time zone")
    state = roll_day(state, limits, now)
    rules: Iterable[_Check] = _ALWAYS if proposal.reduces else (*_ALWAYS, *_ENTRY)
    for rule in rules:
        decision = rule(state, limits, proposal, now)
        if decision is not None:
            return decision
    return ALLOW


def _no(rule: Rule, detail: str, *, hold: bool = False) -> Decision:
    return Decision(False, rule, detail, hold)


def _invalid(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    i = p.intent
    problems = []
    if i.count <= 0:
        problems.append(f"count {i.count} must be at least 1")
    if not Decimal(0) < i.limit_price < Decimal(1):
        problems.append(f"limit price {i.limit_price} must be between 0 and 1 dollars")
    if p.cost < 0 or p.fees < 0:
        problems.append(f"cost {p.cost} and fees {p.fees} must not be negative")
    if p.unknown_orders < 0 or p.pending.contracts < 0:
        problems.append("unknown and pending order counts must not be negative")
    if not i.ticker:
        problems.append("ticker is empty")
    if problems:
        return _no(Rule.INVALID, f"invalid order {i.client_order_id or '<no id>'}: " + "; ".join(problems))
    return None


def _halted(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    if state.mode is BreakerMode.HALTED:
        return _no(Rule.HALTED, f"halted: {state.reason or 'by the operator'} (only cancels until resume)")
    return None


def _blocked(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    key = p.intent.signal_key
    if key and key in state.blocked:
        return _no(Rule.BLOCKED, f"blocked: signal {key} was blocked by the operator")
    return None


def _sanity(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    key = p.intent.signal_key
    if key and key in state.confirmed:
        return None
    waiting = state.held.get(key) if key else None
    if waiting is not None:  # a suspected mapping or data error stays suspect at an ordinary edge too
        return _no(Rule.SANITY, f"sanity: signal {key} is held for the operator ({waiting.detail})", hold=True)
    for name, value in (("edge", p.edge), ("margin", p.margin)):
        if value is not None and value > limits.max_edge:
            held = " (held for the operator to confirm or block)" if key else ""
            return _no(Rule.SANITY, f"sanity {name} {value} > {limits.max_edge}{held}", hold=bool(key))
    return None


def _unknown(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    if p.unknown_orders > 0:
        return _no(
            Rule.UNKNOWN_ORDERS,
            f"unknown_orders {p.unknown_orders} on {p.intent.ticker} in UNKNOWN state until resolved",
        )
    return None


def _reducing(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    if p.reduces:
        return None
    if state.mode is BreakerMode.REDUCING:
        return _no(Rule.REDUCING, f"reducing: only orders that reduce a position pass ({state.reason})")
    event_reason = state.reducing_events.get(p.intent.event_ticker)
    if event_reason is not None:
        return _no(
            Rule.REDUCING,
            f"reducing: only orders that reduce a position pass on {p.intent.event_ticker} ({event_reason})",
        )
    return None


def _streak(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    if state.consecutive_losses >= limits.max_consecutive_losses:
        return _no(
            Rule.CONSECUTIVE_LOSSES,
            f"consecutive_losses {state.consecutive_losses} >= {limits.max_consecutive_losses}",
        )
    return None


def _book_age(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    at = p.feed.book_at
    if at is None:
        return _no(Rule.BOOK_AGE, f"book_age: no current Kalshi book for {p.intent.ticker}")
    age = now - at
    if age > limits.max_book_age:
        return _no(Rule.BOOK_AGE, f"book_age {_secs(age)} > {_secs(limits.max_book_age)} on {p.intent.ticker}")
    return None


def _quote_age(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    if p.quotes_at is None:
        return None
    age = now - p.quotes_at
    if age > limits.max_quote_age:
        return _no(Rule.QUOTE_AGE, f"quote_age {_secs(age)} > {_secs(limits.max_quote_age)} for the sportsbook quotes")
    return None


def _feed_silent(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    f = p.feed
    if f.last_ticker_at is None or f.last_book_change_at is None:
        return None
    silence = f.last_ticker_at - f.last_book_change_at
    if silence > limits.max_feed_silence:
        return _no(
            Rule.FEED_SILENT,
            f"feed_silent {_secs(silence)} without a book change while ticker messages arrive "
            f"> {_secs(limits.max_feed_silence)} on {p.intent.ticker}",
        )
    return None


def _mismatch(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    f = p.feed
    if f.last_ticker_at is not None and f.last_book_change_at is not None and f.last_ticker_at < f.last_book_change_at:
        return None  # the book moved after the last ticker message: the ticker is behind, not the book wrong
    pairs = ((f.book_yes_bid, f.ticker_yes_bid), (f.book_yes_ask, f.ticker_yes_ask))
    if any(t is not None and b != t for b, t in pairs):
        return _no(
            Rule.BOOK_MISMATCH,
            f"book_mismatch book {_px(f.book_yes_bid)}/{_px(f.book_yes_ask)} vs ticker "
            f"{_px(f.ticker_yes_bid)}/{_px(f.ticker_yes_ask)} (yes bid/ask) on {p.intent.ticker}",
        )
    return None


def _rate(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    per_second = sum(1 for t in state.recent_orders if now - t < ONE_SECOND)
    if per_second >= limits.max_orders_per_second:
        return _no(
            Rule.ORDERS_PER_SECOND,
            f"orders_per_second {per_second} in the last 1s >= {limits.max_orders_per_second} "
            f"(the {limits.tier} tier's write budget)",
        )
    per_minute = sum(1 for t in state.recent_orders if now - t < RATE_WINDOW)
    if per_minute >= limits.max_orders_per_minute:
        return _no(
            Rule.ORDERS_PER_MINUTE, f"orders_per_minute {per_minute} in the last 60s >= {limits.max_orders_per_minute}"
        )
    last = state.last_order_at.get(p.intent.ticker)
    if last is not None and now - last < limits.min_order_gap:
        return _no(
            Rule.MARKET_GAP,
            f"market_gap {_secs(now - last)} since the last order on {p.intent.ticker} < {_secs(limits.min_order_gap)}",
        )
    return None


def _trade_contracts(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    if p.intent.count > limits.max_trade_contracts:
        return _no(Rule.TRADE_CONTRACTS, f"trade_contracts {p.intent.count} > {limits.max_trade_contracts}")
    return None


def _trade_risk(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    if p.at_risk > limits.max_trade_risk:
        return _no(
            Rule.TRADE_RISK,
            f"trade_risk {money_str(p.at_risk)} (cost {money_str(p.cost)} + fees {money_str(p.fees)}) "
            f"> {money_str(limits.max_trade_risk)}",
        )
    return None


def _daily(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    day, pend = state.day, p.pending
    pending_risk = f" + {money_str(pend.at_risk)} pending" if pend.at_risk else ""
    if day.loss + p.at_risk + pend.at_risk > limits.max_daily_loss:
        return _no(
            Rule.DAILY_LOSS,
            f"daily_loss {money_str(day.loss)} + {money_str(p.at_risk)} at risk{pending_risk} "
            f"> {money_str(limits.max_daily_loss)}",
        )
    if day.trades + 1 > limits.max_daily_trades:
        return _no(Rule.DAILY_TRADES, f"daily_trades {day.trades} + 1 > {limits.max_daily_trades}")
    contracts = day.contracts + p.intent.count + pend.contracts
    if contracts > limits.max_daily_contracts:
        pending = f" + {pend.contracts} pending" if pend.contracts else ""
        return _no(
            Rule.DAILY_CONTRACTS,
            f"daily_contracts {day.contracts} + {p.intent.count}{pending} > {limits.max_daily_contracts}",
        )
    if day.fees + p.fees + pend.fees > limits.max_daily_fees:
        pending = f" + {money_str(pend.fees)} pending" if pend.fees else ""
        return _no(
            Rule.DAILY_FEES,
            f"daily_fees {money_str(day.fees)} + {money_str(p.fees)}{pending} > {money_str(limits.max_daily_fees)}",
        )
    return None


def _exposure(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    scopes = (
        (Rule.EVENT_EXPOSURE, p.exposure.event, limits.max_event_exposure, f" on {p.intent.event_ticker}"),
        (Rule.LEAGUE_EXPOSURE, p.exposure.league, limits.max_league_exposure, f" in {p.intent.league or '?'}"),
        (Rule.TOTAL_EXPOSURE, p.exposure.total, limits.max_total_exposure, ""),
    )
    for rule, current, share, where in scopes:
        cap = limits.bankroll * share
        if current + p.at_risk > cap:
            return _no(
                rule,
                f"{rule.value} {money_str(current)} + {money_str(p.at_risk)} > {money_str(cap)} "
                f"({share} of bankroll {money_str(limits.bankroll)}){where}",
            )
    return None


def _balance(state: BreakerState, limits: RiskLimits, p: OrderProposal, now: datetime) -> Decision | None:
    shard = p.intent.exchange_index
    if p.shard_cash is None:
        return _no(Rule.BALANCE, f"balance unknown on exchange shard {shard}")
    need = p.at_risk + limits.min_cash_reserve
    if p.shard_cash < need:
        return _no(
            Rule.BALANCE,
            f"balance {money_str(p.shard_cash)} on shard {shard} < {money_str(need)} "
            f"(cost + fees {money_str(p.at_risk)} + reserve {money_str(limits.min_cash_reserve)})",
        )
    return None


_ALWAYS: tuple[_Check, ...] = (
    _invalid,
    _halted,
    _blocked,
    _sanity,
    _unknown,
    _reducing,
    _book_age,
    _quote_age,
    _feed_silent,
    _mismatch,
    _rate,
    _trade_contracts,
)
_ENTRY: tuple[_Check, ...] = (_streak, _trade_risk, _daily, _exposure, _balance)


def _secs(delta: timedelta) -> str:
    """A duration in seconds without float noise: 30s, 1.5s, 0.000001s."""
    micros = Decimal(delta // timedelta(microseconds=1)) / Decimal(1_000_000)
    return f"{format(micros.normalize(), 'f')}s"


def _px(price: Decimal | None) -> str:
    return "none" if price is None else price_str(price)
