"""Mark-to-market at the bid you could sell at (never the mid), and totals per market, event, league, day."""

from __future__ import annotations

from decimal import Decimal as D

from breaker_kit import EVENT, TICKER, fill, settlement

from engine.detection.signals import Side
from engine.portfolio import Ledger, Mark, MarketRef, apply_fill, apply_settlement, exposure, summarize

NYG = "KXNFLGAME-26NOV26DALNYG-NYG"
NBA_T, NBA_E = "KXNBAGAME-26NOV25LALBOS-LAL", "KXNBAGAME-26NOV25LALBOS"


def book() -> Ledger:
    lg = Ledger.start(D(1000))
    lg = apply_fill(lg, fill("a", 10, "0.40", fee="0.17"), MarketRef(EVENT, "NFL")).ledger
    lg = apply_fill(lg, fill("b", 5, "0.30", side=Side.NO, fee="0.08", ticker=NYG), MarketRef(EVENT, "NFL")).ledger
    return apply_fill(lg, fill("c", 4, "0.60", fee="0.07", ticker=NBA_T), MarketRef(NBA_E, "NBA")).ledger


def test_a_yes_position_is_marked_at_the_yes_bid_not_the_mid() -> None:
    # bid 0.45 / ask 0.55: the mid (0.50) is not a price anyone pays for it
    s = summarize(book(), {TICKER: Mark(yes_bid=D("0.45"), no_bid=D("0.45"))})
    row = next(r for r in s.markets if r.position.ticker == TICKER)
    assert (row.bid, row.value, row.unrealised) == (D("0.45"), D("4.50"), D("0.50"))
    assert row.net == D("0.50") - D("0.17")


def test_a_no_position_is_marked_at_the_no_bid() -> None:
    s = summarize(book(), {NYG: Mark(yes_bid=D("0.70"), no_bid=D("0.26"))})
    row = next(r for r in s.markets if r.position.ticker == NYG)
    assert (row.bid, row.value, row.unrealised) == (D("0.26"), D("1.30"), D("-0.20"))


def test_no_bid_is_worth_nothing_and_is_counted_as_unmarked() -> None:
    s = summarize(book(), {TICKER: Mark(yes_bid=None, no_bid=D("0.5"))})
    row = next(r for r in s.markets if r.position.ticker == TICKER)
    assert (row.bid, row.value, row.unrealised) == (None, D(0), D("-4.00"))
    assert s.total.unmarked == 3  # the two markets without any mark, and this one


def test_totals_per_event_league_and_overall() -> None:
    marks = {
        TICKER: Mark(D("0.45"), D("0.53")),
        NYG: Mark(D("0.72"), D("0.26")),
        NBA_T: Mark(D("0.58"), D("0.40")),
    }
    s = summarize(book(), marks)
    nfl = s.by_league["NFL"]
    assert (nfl.cost, nfl.fees, nfl.value, nfl.unrealised, nfl.contracts) == (
        D("5.50"), D("0.25"), D("5.80"), D("0.30"), 15,
    )  # fmt: skip
    assert s.by_event[EVENT] == nfl
    nba = s.by_league["NBA"]
    assert (nba.value, nba.unrealised, nba.net) == (D("2.32"), D("-0.08"), D("-0.15"))
    assert s.total.net == nfl.net + nba.net
    assert s.cash == D(1000) - D("7.90") - D("0.32")
    assert s.equity == s.cash + D("8.12")


def test_settled_markets_carry_realised_pnl_and_no_value() -> None:
    lg = apply_settlement(book(), settlement("0.5")).ledger  # an NFL tie
    s = summarize(lg, {TICKER: Mark(D("0.99"), D("0.99"))})
    row = next(r for r in s.markets if r.position.ticker == TICKER)
    assert (row.value, row.position.realised, row.net) == (D(0), D("1.00"), D("0.83"))


def test_exposure_is_the_open_cost_by_event_league_and_total() -> None:
    e = exposure(book(), EVENT, "NFL")
    assert (e.event, e.league, e.total) == (D("5.50"), D("5.50"), D("7.90"))
    e = exposure(book(), NBA_E, "NBA")
    assert (e.event, e.league, e.total) == (D("2.40"), D("2.40"), D("7.90"))
