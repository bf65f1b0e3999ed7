"""Builders for breaker and ledger tests: small limits whose boundaries are easy to state exactly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

from engine.detection.signals import Side
from engine.execution.model import Action, FillRecord, Mode, OrderIntent, SettlementRecord, TimeInForce
from engine.risk import BreakerState, FeedState, OrderProposal, RiskLimits, initial_state

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # 13:00 in New York
TICKER = "KXNFLGAME-26NOV26DALNYG-DAL"
EVENT = "KXNFLGAME-26NOV26DALNYG"
KEY = "edge|KXNFLGAME-26NOV26DALNYG-DAL|yes"

LIMITS = RiskLimits(
    max_trade_contracts=100,
    max_trade_risk=D(50),
    max_daily_loss=D(100),
    max_daily_trades=10,
    max_daily_contracts=500,
    max_daily_fees=D(5),
    max_consecutive_losses=3,
    bankroll=D(1000),
    max_event_exposure=D("0.10"),
    max_league_exposure=D("0.25"),
    max_total_exposure=D("0.50"),
    max_orders_per_minute=20,
    min_order_gap=timedelta(seconds=2),
    tier="basic",
    min_cash_reserve=D(1),
    max_book_age=timedelta(seconds=10),
    max_quote_age=timedelta(seconds=60),
    max_feed_silence=timedelta(seconds=30),
    max_edge=D("0.15"),
)


def intent(**changes: Any) -> OrderIntent:
    base = OrderIntent(
        client_order_id="cid-1",
        ticker=TICKER,
        event_ticker=EVENT,
        league="NFL",
        side=Side.YES,
        action=Action.BUY,
        count=10,
        limit_price=D("0.50"),
        time_in_force=TimeInForce.IOC,
        mode=Mode.PAPER,
        created_at=T0,
        signal_key=KEY,
    )
    return replace(base, **changes)


def fresh_feed(now: datetime = T0) -> FeedState:
    return FeedState(
        book_at=now,
        last_book_change_at=now - timedelta(seconds=1),
        last_ticker_at=now,
        book_yes_bid=D("0.48"),
        book_yes_ask=D("0.50"),
        ticker_yes_bid=D("0.48"),
        ticker_yes_ask=D("0.50"),
    )


def proposal(now: datetime = T0, **changes: Any) -> OrderProposal:
    """10 YES at 0.50: cost 5.00 + fees 0.18 = 5.18 at risk, fresh data, plenty of cash, nothing open."""
    base = OrderProposal(
        intent=intent(),
        cost=D("5.00"),
        fees=D("0.18"),
        feed=fresh_feed(now),
        quotes_at=now - timedelta(seconds=5),
        edge=D("0.05"),
        shard_cash=D(1000),
    )
    return replace(base, **changes)


def state(now: datetime = T0, **changes: Any) -> BreakerState:
    return replace(initial_state(LIMITS, now), **changes)


def fill(
    fill_id: str,
    count: int,
    price: str,
    *,
    side: Side = Side.YES,
    action: Action = Action.BUY,
    fee: str = "0.00",
    ts: datetime = T0,
    ticker: str = TICKER,
) -> FillRecord:
    return FillRecord(fill_id, "cid-" + fill_id, ticker, side, action, count, D(price), D(fee), ts, Mode.PAPER)


def settlement(value: str, *, ticker: str = TICKER, event: str = EVENT, ts: datetime = T0) -> SettlementRecord:
    return SettlementRecord(ticker, event, D(value), ts)
