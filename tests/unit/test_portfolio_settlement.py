"""Paper settlement values (engine.execution.paper_settlement) and today's P&L (engine.portfolio.day_pnl):
a tie pays 0.50 a contract on either side, a garbled value is refused, and "today" is the calendar day of
``now`` in the ledger's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from engine.connectors.kalshi.messages import MarketLifecycle
from engine.detection.signals import Side
from engine.execution.model import Action, FillRecord, Mode
from engine.execution.paper_settlement import (
    SettlementError,
    lifecycle_settlement,
    market_settlement,
    settlement_value,
)
from engine.portfolio import Ledger, MarketRef, apply_fill, day_pnl
from engine.portfolio.ledger import Position

NOW = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # 18:30 in New York
HELD_NO = Position("KXNFLGAME-26NOV29DALNYG-DAL", "KXNFLGAME-26NOV29DALNYG", "NFL", Side.NO, 10, D("4.20"))


def test_values_by_result_and_by_settlement_value() -> None:
    assert settlement_value("yes", None, "T") == D(1)
    assert settlement_value("no", None, "T") == D(0)
    assert settlement_value("", D("0.5"), "T") == D("0.5")
    assert settlement_value("", None, "T") is None  # not decided yet
    with pytest.raises(SettlementError, match=r"value 1.5 is outside 0..1"):
        settlement_value("", D("1.5"), "T")
    with pytest.raises(SettlementError, match="contradicts result 'yes'"):
        settlement_value("yes", D("0.5"), "T")


def test_a_tie_pays_half_a_dollar_per_contract_held() -> None:
    msg = MarketLifecycle(1, HELD_NO.ticker, "determined", result="", settlement_value=D("0.5000"), determination_ts=1)
    record = lifecycle_settlement(msg, HELD_NO, NOW)
    assert record is not None and record.value == D("0.5") and record.revenue == D("5.0")
    assert record.ts == datetime.fromtimestamp(1, UTC)
    assert lifecycle_settlement(MarketLifecycle(1, HELD_NO.ticker, "settled"), HELD_NO, NOW) is None  # ask REST


def test_the_rest_market_decides_when_the_message_did_not() -> None:
    doc = {"result": "no", "settlement_value_dollars": "0.0000", "settlement_ts": "2026-11-29T23:00:00Z"}
    record = market_settlement(doc, HELD_NO, NOW)
    assert record is not None and record.revenue == D(10) and record.ts == datetime(2026, 11, 29, 23, tzinfo=UTC)
    assert market_settlement({"result": "", "status": "active"}, HELD_NO, NOW) is None
    with pytest.raises(SettlementError, match="is not a decimal"):
        market_settlement({"settlement_value_dollars": "half"}, HELD_NO, NOW)


def test_today_is_the_calendar_day_of_now_in_the_ledger_zone() -> None:
    fill = FillRecord("f1", "c1", HELD_NO.ticker, Side.YES, Action.BUY, 2, D("0.40"), D("0.02"), NOW, Mode.PAPER)
    ledger = apply_fill(Ledger.start(D(100)), fill, MarketRef(HELD_NO.event_ticker, "NFL")).ledger
    assert day_pnl(ledger, NOW).fees == D("0.02")
    assert day_pnl(ledger, datetime(2026, 11, 30, 5, 1, tzinfo=UTC)).fees == 0  # past midnight in New York
