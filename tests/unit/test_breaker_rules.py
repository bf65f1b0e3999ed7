"""Every breaker rule at its boundary: at the limit allowed, one step past rejected, the numbers named."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal as D

import pytest
from breaker_kit import EVENT, KEY, LIMITS, T0, TICKER, fresh_feed, intent, proposal, state

from engine.config.settings import load_settings
from engine.detection.signals import Side
from engine.errors import ConfigError
from engine.execution.model import Action
from engine.risk import (
    BreakerMode,
    DailyCounters,
    Exposure,
    Pending,
    RiskLimits,
    Rule,
    block,
    check,
    confirm,
    event_legged,
    hold,
)


def rejected(decision_rule: Rule, detail: str, **kw: object) -> None:
    """Assert the proposal built from ``kw`` (state fields prefixed ``state_``) is refused exactly so."""
    st_kw = {k[6:]: v for k, v in kw.items() if k.startswith("state_")}
    p_kw = {k: v for k, v in kw.items() if not k.startswith("state_")}
    d = check(state(**st_kw), LIMITS, proposal(**p_kw), T0)
    assert (d.allowed, d.rule, d.detail) == (False, decision_rule, detail)


def allowed(**kw: object) -> None:
    st_kw = {k[6:]: v for k, v in kw.items() if k.startswith("state_")}
    p_kw = {k: v for k, v in kw.items() if not k.startswith("state_")}
    d = check(state(**st_kw), LIMITS, proposal(**p_kw), T0)
    assert d.allowed, d.detail
    assert d.rule is Rule.OK


def day(**kw: object) -> DailyCounters:
    return replace(state().day, **kw)


def test_a_plain_order_passes() -> None:
    allowed()


# -- per trade ------------------------------------------------------------------------------------------


def test_trade_contracts() -> None:
    allowed(intent=intent(count=100), cost=D("40.00"))
    rejected(Rule.TRADE_CONTRACTS, "trade_contracts 101 > 100", intent=intent(count=101), cost=D("40.40"))


def test_trade_risk_counts_cost_and_fees() -> None:
    allowed(cost=D("49.50"), fees=D("0.50"))
    rejected(
        Rule.TRADE_RISK,
        "trade_risk 50.01 (cost 49.50 + fees 0.51) > 50.00",
        cost=D("49.50"),
        fees=D("0.51"),
    )


# -- daily ----------------------------------------------------------------------------------------------


def test_daily_loss_adds_this_orders_risk_to_the_days_realised_loss() -> None:
    allowed(state_day=day(realised_pnl=D("-96.40")), cost=D("3.50"), fees=D("0.10"))
    rejected(
        Rule.DAILY_LOSS,
        "daily_loss 96.40 + 7.10 at risk > 100.00",
        state_day=day(realised_pnl=D("-96.40")),
        cost=D("7.00"),
        fees=D("0.10"),
    )


def test_daily_loss_counts_open_orders_as_at_risk() -> None:
    allowed(state_day=day(realised_pnl=D("-90.00")), pending=Pending(at_risk=D("4.82")))
    rejected(
        Rule.DAILY_LOSS,
        "daily_loss 90.00 + 5.18 at risk + 4.83 pending > 100.00",
        state_day=day(realised_pnl=D("-90.00")),
        pending=Pending(at_risk=D("4.83")),
    )


def test_a_day_in_profit_has_no_loss_to_add() -> None:
    allowed(state_day=day(realised_pnl=D("500")), cost=D("49.00"))


def test_daily_trades() -> None:
    allowed(state_day=day(trades=9))
    rejected(Rule.DAILY_TRADES, "daily_trades 10 + 1 > 10", state_day=day(trades=10))


def test_daily_contracts_include_this_order_and_open_ones() -> None:
    allowed(state_day=day(contracts=490))
    rejected(Rule.DAILY_CONTRACTS, "daily_contracts 491 + 10 > 500", state_day=day(contracts=491))
    allowed(state_day=day(contracts=480), pending=Pending(contracts=10))
    rejected(
        Rule.DAILY_CONTRACTS,
        "daily_contracts 481 + 10 + 10 pending > 500",
        state_day=day(contracts=481),
        pending=Pending(contracts=10),
    )


def test_daily_fees() -> None:
    allowed(state_day=day(fees=D("4.82")))
    rejected(Rule.DAILY_FEES, "daily_fees 4.83 + 0.18 > 5.00", state_day=day(fees=D("4.83")))


def test_consecutive_losses() -> None:
    allowed(state_consecutive_losses=2)
    rejected(Rule.CONSECUTIVE_LOSSES, "consecutive_losses 3 >= 3", state_consecutive_losses=3)


# -- concentration --------------------------------------------------------------------------------------


def test_event_exposure_is_a_share_of_bankroll() -> None:
    allowed(exposure=Exposure(event=D("94.82"), league=D("94.82"), total=D("94.82")))
    rejected(
        Rule.EVENT_EXPOSURE,
        f"event_exposure 94.83 + 5.18 > 100.00 (0.10 of bankroll 1000.00) on {EVENT}",
        exposure=Exposure(event=D("94.83"), league=D("94.83"), total=D("94.83")),
    )


def test_league_exposure() -> None:
    allowed(exposure=Exposure(league=D("244.82"), total=D("244.82")))
    rejected(
        Rule.LEAGUE_EXPOSURE,
        "league_exposure 244.83 + 5.18 > 250.00 (0.25 of bankroll 1000.00) in NFL",
        exposure=Exposure(league=D("244.83"), total=D("244.83")),
    )


def test_total_exposure() -> None:
    allowed(exposure=Exposure(total=D("494.82")))
    rejected(
        Rule.TOTAL_EXPOSURE,
        "total_exposure 494.83 + 5.18 > 500.00 (0.50 of bankroll 1000.00)",
        exposure=Exposure(total=D("494.83")),
    )


# -- balance --------------------------------------------------------------------------------------------


def test_balance_covers_cost_fees_and_reserve_on_the_orders_shard() -> None:
    allowed(shard_cash=D("6.18"))
    rejected(
        Rule.BALANCE,
        "balance 6.17 on shard 0 < 6.18 (cost + fees 5.18 + reserve 1.00)",
        shard_cash=D("6.17"),
    )
    rejected(Rule.BALANCE, "balance unknown on exchange shard 3", shard_cash=None, intent=intent(exchange_index=3))


# -- rate -----------------------------------------------------------------------------------------------


def test_orders_per_minute_over_a_sliding_window() -> None:
    # 19 orders in the last minute on other markets, 3 s apart: the 20th is allowed, a 21st is not
    recent = tuple(T0 - timedelta(seconds=3 * (i + 1)) for i in range(19))
    allowed(state_recent_orders=recent)
    rejected(
        Rule.ORDERS_PER_MINUTE,
        "orders_per_minute 20 in the last 60s >= 20",
        state_recent_orders=(*recent, T0 - timedelta(seconds=59, microseconds=999999)),
    )
    # an order exactly a minute old has left the window
    allowed(state_recent_orders=(*recent, T0 - timedelta(seconds=60)))


def test_orders_per_second_never_exceed_the_tiers_write_budget() -> None:
    burst = tuple(T0 - timedelta(milliseconds=100 * (i + 1)) for i in range(9))
    allowed(state_recent_orders=burst)
    rejected(
        Rule.ORDERS_PER_SECOND,
        "orders_per_second 10 in the last 1s >= 10 (the basic tier's write budget)",
        state_recent_orders=(*burst, T0 - timedelta(milliseconds=950)),
    )


def test_minimum_gap_per_market() -> None:
    allowed(state_last_order_at={TICKER: T0 - timedelta(seconds=2)})
    rejected(
        Rule.MARKET_GAP,
        f"market_gap 1.999999s since the last order on {TICKER} < 2s",
        state_last_order_at={TICKER: T0 - timedelta(seconds=2) + timedelta(microseconds=1)},
    )
    allowed(state_last_order_at={"KXNFLGAME-26NOV26DALNYG-NYG": T0})


@pytest.mark.parametrize(("tier", "budget"), [("basic", 600), ("advanced", 1800), ("premier", 6000)])
def test_a_per_minute_limit_above_the_tier_budget_is_refused(tier: str, budget: int) -> None:
    assert RiskLimits(tier=tier, max_orders_per_minute=budget).tier_orders_per_minute == budget
    with pytest.raises(ConfigError, match=rf"max_orders_per_minute {budget + 1} exceeds the Kalshi {tier} tier's "):
        RiskLimits(tier=tier, max_orders_per_minute=budget + 1)


def test_settings_refuse_a_rate_above_the_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_ORDERS_PER_MINUTE", "601")
    with pytest.raises(ConfigError, match="600 orders per minute"):
        RiskLimits.from_settings(load_settings(None))


# -- data -----------------------------------------------------------------------------------------------


def test_book_age() -> None:
    allowed(feed=replace(fresh_feed(), book_at=T0 - timedelta(seconds=10)))
    rejected(
        Rule.BOOK_AGE,
        f"book_age 10.000001s > 10s on {TICKER}",
        feed=replace(fresh_feed(), book_at=T0 - timedelta(seconds=10, microseconds=1)),
    )
    rejected(Rule.BOOK_AGE, f"book_age: no current Kalshi book for {TICKER}", feed=replace(fresh_feed(), book_at=None))


def test_quote_age() -> None:
    allowed(quotes_at=T0 - timedelta(seconds=60))
    rejected(Rule.QUOTE_AGE, "quote_age 61s > 60s for the sportsbook quotes", quotes_at=T0 - timedelta(seconds=61))
    allowed(quotes_at=None)  # a Kalshi-only arbitrage uses no sportsbook quotes


def test_a_feed_that_is_connected_but_silent() -> None:
    quiet = replace(fresh_feed(), last_book_change_at=T0 - timedelta(seconds=30))
    allowed(feed=quiet)
    rejected(
        Rule.FEED_SILENT,
        f"feed_silent 30.5s without a book change while ticker messages arrive > 30s on {TICKER}",
        feed=replace(quiet, last_book_change_at=T0 - timedelta(seconds=30.5)),
    )


def test_book_disagreeing_with_the_ticker_channel() -> None:
    rejected(
        Rule.BOOK_MISMATCH,
        f"book_mismatch book 0.4800/0.5000 vs ticker 0.4700/0.5000 (yes bid/ask) on {TICKER}",
        feed=replace(fresh_feed(), ticker_yes_bid=D("0.47")),
    )
    rejected(
        Rule.BOOK_MISMATCH,
        f"book_mismatch book 0.4800/none vs ticker 0.4800/0.5000 (yes bid/ask) on {TICKER}",
        feed=replace(fresh_feed(), book_yes_ask=None),
    )
    # the book moved after the last ticker message: the ticker is behind, the book is not wrong
    behind = replace(fresh_feed(), ticker_yes_bid=D("0.47"), last_ticker_at=T0 - timedelta(seconds=2))
    allowed(feed=behind)


# -- sanity, operator, unknown orders -------------------------------------------------------------------


def test_an_edge_above_the_profile_limit_is_held_never_traded() -> None:
    allowed(edge=D("0.15"))
    d = check(state(), LIMITS, proposal(edge=D("0.1501")), T0)
    assert (d.allowed, d.rule, d.hold) == (False, Rule.SANITY, True)
    assert d.detail == "sanity edge 0.1501 > 0.15 (held for the operator to confirm or block)"
    d = check(state(), LIMITS, proposal(edge=None, margin=D("0.2")), T0)
    assert (d.rule, d.detail) == (Rule.SANITY, "sanity margin 0.2 > 0.15 (held for the operator to confirm or block)")


def test_held_signals_wait_for_confirm_or_block() -> None:
    big = proposal(edge=D("0.30"))
    d = check(state(), LIMITS, big, T0)
    held = hold(state(), big, d, T0)
    assert set(held.held) == {KEY} and held.held[KEY].ticker == TICKER and held.held[KEY].detail == d.detail
    assert hold(held, big, d, T0 + timedelta(seconds=9)) == held  # held once
    assert not check(held, LIMITS, big, T0).allowed  # still never traded while it waits
    waiting = check(held, LIMITS, proposal(), T0)  # not even once its edge looks ordinary
    assert (waiting.allowed, waiting.rule, waiting.hold) == (False, Rule.SANITY, True)
    assert waiting.detail == f"sanity: signal {KEY} is held for the operator ({d.detail})"
    other = proposal(intent=intent(signal_key="edge|OTHER|yes"))
    assert check(held, LIMITS, other, T0).allowed
    confirmed = confirm(held, KEY)
    assert confirmed.held == {} and check(confirmed, LIMITS, big, T0).allowed
    blocked = block(held, KEY)
    assert blocked.held == {}
    d = check(blocked, LIMITS, proposal(), T0)  # blocked even when its edge is ordinary
    assert (d.allowed, d.rule, d.detail) == (False, Rule.BLOCKED, f"blocked: signal {KEY} was blocked by the operator")


def test_orders_in_unknown_state_block_their_market() -> None:
    allowed(unknown_orders=0)
    rejected(
        Rule.UNKNOWN_ORDERS,
        f"unknown_orders 1 on {TICKER} in UNKNOWN state until resolved",
        unknown_orders=1,
    )


def test_halted_refuses_everything_even_reductions() -> None:
    reduce = proposal(intent=intent(action=Action.SELL), position=10, cost=D(0))
    for p in (proposal(), reduce):
        d = check(state(mode=BreakerMode.HALTED, reason="operator pressed h"), LIMITS, p, T0)
        assert (d.allowed, d.rule) == (False, Rule.HALTED)
        assert d.detail == "halted: operator pressed h (only cancels until resume)"


def test_reducing_lets_only_reductions_through() -> None:
    reducing = {"state_mode": BreakerMode.REDUCING, "state_reason": "daily_trades 10 >= 10"}
    rejected(Rule.REDUCING, "reducing: only orders that reduce a position pass (daily_trades 10 >= 10)", **reducing)
    # sell 10 of 10 YES held, or buy 10 NO against them: both reduce
    allowed(intent=intent(action=Action.SELL), position=10, **reducing)
    allowed(intent=intent(side=Side.NO), position=10, **reducing)
    # selling 11 would flip to NO; buying more YES grows it
    rejected(
        Rule.REDUCING,
        "reducing: only orders that reduce a position pass (daily_trades 10 >= 10)",
        intent=intent(action=Action.SELL, count=11),
        position=10,
        **reducing,
    )
    rejected(
        Rule.REDUCING,
        "reducing: only orders that reduce a position pass (daily_trades 10 >= 10)",
        position=10,
        **reducing,
    )


def test_a_legged_event_only_reduces_while_others_trade() -> None:
    legged = event_legged(state(), EVENT, "LEGGED: one leg of kalshi_arb filled")
    d = check(legged, LIMITS, proposal(), T0)
    assert (d.allowed, d.rule) == (False, Rule.REDUCING)
    assert (
        d.detail
        == f"reducing: only orders that reduce a position pass on {EVENT} (LEGGED: one leg of kalshi_arb filled)"
    )
    other = intent(ticker="KXNBAGAME-26NOV25LALBOS-LAL", event_ticker="KXNBAGAME-26NOV25LALBOS", league="NBA")
    assert check(legged, LIMITS, proposal(intent=other), T0).allowed
    assert check(legged, LIMITS, proposal(intent=intent(side=Side.NO), position=10), T0).allowed


def test_reductions_skip_the_rules_that_guard_new_risk() -> None:
    spent = day(realised_pnl=D(-100), trades=10, contracts=500, fees=D(5))
    out = proposal(intent=intent(action=Action.SELL), position=10, cost=D(0), shard_cash=None)
    d = check(state(day=spent, consecutive_losses=3), LIMITS, out, T0)
    assert d.allowed, d.detail
    entry = check(state(day=spent, consecutive_losses=3), LIMITS, proposal(), T0)
    assert not entry.allowed


def test_invalid_orders_are_refused_with_what_is_wrong() -> None:
    d = check(state(), LIMITS, proposal(intent=intent(count=0, limit_price=D(1))), T0)
    assert (d.allowed, d.rule) == (False, Rule.INVALID)
    assert d.detail == "invalid order cid-1: count 0 must be at least 1; limit price 1 must be between 0 and 1 dollars"
    naive = check(state(), LIMITS, proposal(), T0.replace(tzinfo=None))
    assert (naive.rule, naive.detail) == (Rule.INVALID, "invalid: the decision time has no time zone")


def test_decision_is_json_ready() -> None:
    d = check(state(consecutive_losses=3), LIMITS, proposal(), T0)
    assert d.to_json() == {
        "allowed": False,
        "rule": "consecutive_losses",
        "detail": "consecutive_losses 3 >= 3",
        "hold": False,
    }


# -- limits from settings -------------------------------------------------------------------------------


def test_limits_come_from_settings_and_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_PROFILE", "CONSERVATIVE")
    monkeypatch.setenv("MAX_POSITION_SIZE", "40")
    monkeypatch.setenv("MAX_DAILY_LOSS", "250.50")
    monkeypatch.setenv("MIN_ORDER_GAP_S", "0.25")
    monkeypatch.setenv("KALSHI_TIER", "advanced")
    monkeypatch.setenv("MAX_ORDERS_PER_MINUTE", "1800")
    monkeypatch.setenv("RISK_TIMEZONE", "America/Chicago")
    limits = RiskLimits.from_settings(load_settings(None))
    assert limits.max_trade_contracts == 40
    assert limits.max_daily_loss == D("250.50")
    assert limits.min_order_gap == timedelta(milliseconds=250)
    assert limits.max_quote_age == timedelta(seconds=60)  # CONSERVATIVE's quote age
    assert limits.max_edge == D("0.15")
    assert (limits.tier, limits.max_orders_per_minute, limits.timezone) == ("advanced", 1800, "America/Chicago")
    monkeypatch.setenv("PROFILE_MAX_EDGE", "0.10")
    assert RiskLimits.from_settings(load_settings(None)).max_edge == D("0.10")


def test_an_unknown_time_zone_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISK_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match="RISK_TIMEZONE: must be an IANA time zone"):
        load_settings(None)
