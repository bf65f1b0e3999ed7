"""The ledger: netted positions, average price, fees, realised P&L, settlements, idempotent fills, hedges."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from breaker_kit import EVENT, T0, TICKER, fill, settlement

from engine.detection.signals import Hedge, Side, Signal, SignalKind
from engine.execution.model import Action
from engine.money import parse_price
from engine.portfolio import Ledger, LedgerError, MarketRef, apply_fill, apply_settlement, record_hedges

NFL = MarketRef(EVENT, "NFL")
START = D(1000)


def ledger() -> Ledger:
    return Ledger.start(START)


def test_a_buy_opens_a_position_at_its_price_and_charges_the_fee() -> None:
    r = apply_fill(ledger(), fill("f1", 10, "0.40", fee="0.17"), NFL)
    p = r.position
    assert r.applied and p is not None
    assert (p.side, p.count, p.yes_position, p.avg_price, p.cost, p.fees) == (
        Side.YES, 10, 10, D("0.40"), D("4.00"), D("0.17"),
    )  # fmt: skip
    assert r.ledger.cash == START - D("4.00") - D("0.17")
    assert r.realised == 0


def test_average_price_over_two_buys() -> None:
    lg = apply_fill(ledger(), fill("f1", 10, "0.40"), NFL).ledger
    p = apply_fill(lg, fill("f2", 30, "0.48"), NFL).position
    assert p is not None and p.count == 40 and p.avg_price == D("0.46")


def test_selling_realises_against_the_average_price() -> None:
    lg = apply_fill(ledger(), fill("f1", 10, "0.40"), NFL).ledger
    lg = apply_fill(lg, fill("f2", 10, "0.50"), NFL).ledger
    r = apply_fill(lg, fill("f3", 5, "0.60", action=Action.SELL, fee="0.09"), NFL)
    p = r.position
    assert p is not None
    assert r.realised == D("0.75")  # 5 x (0.60 - 0.45)
    assert (p.count, p.avg_price, p.realised, p.net_realised) == (15, D("0.45"), D("0.75"), D("0.66"))
    assert r.ledger.cash == START - D(9) + D(3) - D("0.09")


def test_buying_no_against_yes_closes_it_like_kalshi_nets_pairs() -> None:
    lg = apply_fill(ledger(), fill("f1", 15, "0.45"), NFL).ledger
    r = apply_fill(lg, fill("f2", 15, "0.35", side=Side.NO), NFL)
    p = r.position
    assert p is not None and p.side is None and p.count == 0 and p.cost == 0
    assert r.realised == D("3.00")  # the same as selling YES at 0.65
    assert r.ledger.cash == START - D("6.75") - D("5.25") + D(15)  # 15 pairs redeemed at $1


def test_an_order_larger_than_the_position_flips_it() -> None:
    lg = apply_fill(ledger(), fill("f1", 5, "0.40"), NFL).ledger
    r = apply_fill(lg, fill("f2", 8, "0.55", side=Side.NO), NFL)
    p = r.position
    assert p is not None
    assert (p.side, p.count, p.yes_position, p.cost, p.avg_price) == (Side.NO, 3, -3, D("1.65"), D("0.55"))
    assert r.realised == D("0.25")  # 5 x (1 - 0.55 - 0.40)
    assert p.net_fills == -3


def test_selling_yes_without_holding_it_is_long_no() -> None:
    p = apply_fill(ledger(), fill("f1", 4, "0.70", action=Action.SELL), NFL).position
    assert p is not None and (p.side, p.count, p.cost) == (Side.NO, 4, D("1.20"))


def test_the_same_fill_id_twice_counts_once() -> None:
    first = apply_fill(ledger(), fill("f1", 10, "0.40", fee="0.17"), NFL)
    again = apply_fill(first.ledger, fill("f1", 10, "0.40", fee="0.17"), NFL)
    assert not again.applied and again.ledger is first.ledger


def test_bad_fills_are_refused_and_change_nothing() -> None:
    lg = apply_fill(ledger(), fill("f1", 10, "0.40"), NFL).ledger
    with pytest.raises(LedgerError, match=r"fill f2 on .*: count 0 must be at least 1; price 1.5 must be between"):
        apply_fill(lg, fill("f2", 0, "1.5"), NFL)
    with pytest.raises(LedgerError, match=r"fee -0\.01 must not be negative"):
        apply_fill(lg, fill("f2", 1, "0.5", fee="-0.01"), NFL)
    with pytest.raises(LedgerError, match="market KXNEW is new; its event and league are needed"):
        apply_fill(lg, fill("f2", 1, "0.5", ticker="KXNEW"))
    with pytest.raises(LedgerError, match=f"belongs to {EVENT}, not OTHER"):
        apply_fill(lg, fill("f2", 1, "0.5"), MarketRef("OTHER", "NFL"))
    with pytest.raises(LedgerError, match="has no time zone"):
        apply_fill(lg, fill("f2", 1, "0.5", ts=T0.replace(tzinfo=None)), NFL)
    assert lg.positions[TICKER].count == 10 and lg.cash == START - D(4)


# -- settlements ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "price", "value", "revenue", "realised"),
    [
        (Side.YES, "0.40", "1", "10", "6.00"),
        (Side.YES, "0.40", "0", "0", "-4.00"),
        (Side.NO, "0.55", "0", "10", "4.50"),
        (Side.NO, "0.55", "1", "0", "-5.50"),
        # an NFL tie settles each team's winner market at $0.50
        (Side.YES, "0.40", "0.5", "5", "1.00"),
        (Side.NO, "0.55", "0.5", "5", "-0.50"),
    ],
)
def test_settlement_pays_the_held_side(side: Side, price: str, value: str, revenue: str, realised: str) -> None:
    lg = apply_fill(ledger(), fill("f1", 10, price, side=side, fee="0.10"), NFL).ledger
    r = apply_settlement(lg, settlement(value))
    assert r.applied and (r.revenue, r.realised) == (D(revenue), D(realised))
    assert r.market_pnl == D(realised) - D("0.10")
    assert r.ledger.cash == START - D(price) * 10 - D("0.10") + D(revenue)
    p = r.position
    assert p is not None and p.count == 0 and p.side is None and p.settled and p.settlement_value == D(value)


def test_settlement_value_from_the_exchange_dollar_string() -> None:
    """``settlement_value_dollars`` is a dollar string; a tie is "0.5000"."""
    lg = apply_fill(ledger(), fill("f1", 10, "0.40"), NFL).ledger
    tie = replace(settlement("0"), value=parse_price("0.5000"))
    assert apply_settlement(lg, tie).revenue == D("5.0000")


def test_a_settlement_counts_once_and_closes_the_market() -> None:
    lg = apply_fill(ledger(), fill("f1", 10, "0.40"), NFL).ledger
    once = apply_settlement(lg, settlement("1"))
    again = apply_settlement(once.ledger, settlement("1"))
    assert not again.applied and again.ledger is once.ledger
    with pytest.raises(LedgerError, match="has already settled"):
        apply_fill(once.ledger, fill("f2", 1, "0.5"), NFL)


def test_a_settlement_of_a_market_never_traded_is_kept_flat() -> None:
    r = apply_settlement(ledger(), settlement("1", ticker="KXOTHER", event="EV2"))
    assert r.applied and r.revenue == 0 and r.ledger.cash == START
    with pytest.raises(LedgerError, match="has already settled"):
        apply_fill(r.ledger, fill("f1", 1, "0.5", ticker="KXOTHER"), MarketRef("EV2", "NFL"))


def test_a_bad_settlement_value_is_refused() -> None:
    with pytest.raises(LedgerError, match=r"value 1\.5 is outside 0\.\.1 dollars"):
        apply_settlement(ledger(), settlement("1.5"))


# -- per day --------------------------------------------------------------------------------------------


def test_days_follow_new_york_midnight() -> None:
    lg = apply_fill(ledger(), fill("f1", 10, "0.40", fee="0.10"), NFL).ledger
    late = T0.replace(hour=4, minute=30) + timedelta(days=1)  # 23:30 on the 25th in New York
    lg = apply_fill(lg, fill("f2", 10, "0.60", action=Action.SELL, fee="0.10", ts=late), NFL).ledger
    next_day = late + timedelta(hours=1)
    lg = apply_settlement(lg, settlement("1", ticker="KXOTHER", event="EV2", ts=next_day)).ledger
    assert set(lg.days) == {date(2026, 11, 25), date(2026, 11, 26)}
    d25 = lg.days[date(2026, 11, 25)]
    assert (d25.fills, d25.contracts, d25.fees, d25.realised, d25.net) == (2, 20, D("0.20"), D("2.00"), D("1.80"))


# -- arbitrage hedge legs -------------------------------------------------------------------------------


def arb_signal() -> Signal:
    hedge = Hedge("draftkings", "New York Giants", None, D("2.50"), D("0.40"))
    return Signal(
        kind=SignalKind.ARB, ticker=TICKER, side=Side.YES, event_ticker=EVENT, fair=None, books={},
        books_agree=1, ask=D("0.55"), edge=D("0.03"), count=20, limit_price=D("0.55"), cost=D(11),
        fees=D("0.35"), ev=D("0.5"), margin=D("0.03"), hedges=(hedge,),
    )  # fmt: skip


def test_arb_hedge_legs_are_manual_instructions_never_executions() -> None:
    lg = apply_fill(ledger(), fill("f1", 20, "0.55"), NFL).ledger
    after = record_hedges(lg, arb_signal(), 20, T0)
    assert after.cash == lg.cash and after.positions == lg.positions and after.days == lg.days
    (ins,) = after.instructions
    assert (ins.book, ins.outcome, ins.decimal_odds, ins.stake, ins.contracts, ins.status) == (
        "draftkings", "New York Giants", D("2.50"), D("8.00"), 20, "manual",
    )  # fmt: skip
    assert ins.signal_key == f"arb:{TICKER}:yes"


def test_only_an_arb_signal_has_hedge_legs() -> None:
    edge = replace(arb_signal(), kind=SignalKind.EDGE, hedges=())
    with pytest.raises(LedgerError, match="only an arb signal has sportsbook hedge legs"):
        record_hedges(ledger(), edge, 10, T0)
    with pytest.raises(LedgerError, match="contracts 0 must be at least 1"):
        record_hedges(ledger(), arb_signal(), 0, T0)


def test_a_ledger_refuses_a_bad_start() -> None:
    with pytest.raises(LedgerError, match="starting cash -1 must not be negative"):
        Ledger.start(D(-1))
    with pytest.raises(LedgerError, match="ledger time zone 'Mars/Olympus' is not an IANA time zone"):
        Ledger.start(D(1), "Mars/Olympus")
