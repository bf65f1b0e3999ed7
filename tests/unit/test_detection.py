"""Every edge rule of the engine-core issue, both arbitrage kinds, and the fills they report."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

import pytest
from builders import BOOKS, NOW, h2h_event, market, winner, yes_asks

from engine.config.profiles import PROFILES, ProfileName, build_profile
from engine.detection.detector import DetectionContext, detect, evaluate_group, evaluate_market
from engine.detection.quotes import book_views
from engine.detection.signals import Side, SignalKind
from engine.mapping.types import MappingResult, MarketKind, MarketMatch
from engine.markets.kalshi import SeriesInfo, parse_orderbook
from engine.markets.odds import OddsEvent
from engine.money import to_decimal
from engine.pricing.fees import DEFAULT_FEES, FeeSchedule, FeeType, buy_fees_charged
from engine.pricing.vig import power

D = Decimal
STANDARD = PROFILES[ProfileName.STANDARD]
CTX = DetectionContext(STANDARD, D(10000), 100)
EVENT = "KXNFLGAME-26NOV26GBDET"
TICKER = f"{EVENT}-DET"
DET, GB = "Detroit Lions", "Green Bay Packers"
FAIR_DET = power([0.6, 100 / 230])[0]  # every book quotes DET -150 / GB +130


def quotes(**override: dict[str, int]) -> dict[str, dict[str, int]]:
    prices = {b: {DET: -150, GB: 130} for b in BOOKS}
    prices.update(override)
    return prices


def evaluate(book_asks: list[tuple[str, str]], *, ctx: DetectionContext = CTX, **event_kw: object):  # type: ignore[no-untyped-def]
    event = h2h_event("e1", DET, GB, event_kw.pop("prices", quotes()), **event_kw)  # type: ignore[arg-type]
    book = yes_asks(TICKER, book_asks)
    return evaluate_market(market(TICKER, EVENT), book, winner(TICKER, EVENT, "e1", DET), event, ctx, NOW)


def edges(result):  # type: ignore[no-untyped-def]
    """Edge signals only: at these prices the same order is usually an arbitrage too."""
    return [s for s in result.signals if s.kind is SignalKind.EDGE]


def fee(p: str) -> Decimal:
    return DEFAULT_FEES.per_contract(D(p))


def test_edge_signal_numbers() -> None:
    (sig,) = edges(evaluate([("0.50", "10"), ("0.51", "5")]))
    assert (sig.kind, sig.side, sig.ticker) == (SignalKind.EDGE, Side.YES, TICKER)
    assert sig.fair == pytest.approx(FAIR_DET)
    assert sig.edge == to_decimal(FAIR_DET) - D("0.50") - fee("0.50")
    assert sig.books_agree == 4 and set(sig.books) == set(BOOKS)
    assert sig.count == 15 and sig.limit_price == D("0.51")
    assert sig.cost == D("0.50") * 10 + D("0.51") * 5
    assert sig.fees == buy_fees_charged([(D("0.50"), D(10)), (D("0.51"), D(5))], DEFAULT_FEES)
    assert sig.ev == to_decimal(FAIR_DET) * 15 - sig.cost - sig.fees


def test_kelly_caps_the_count() -> None:
    small = DetectionContext(STANDARD, D(100), 100)
    (sig,) = edges(evaluate([("0.50", "1000")], ctx=small))
    p_eff = D("0.50") + fee("0.50")
    f = (to_decimal(FAIR_DET) - p_eff) / (1 - p_eff)
    expected = (STANDARD.kelly_fraction * f * D(100) / p_eff).to_integral_value(rounding=ROUND_FLOOR)
    assert sig.count == int(expected) and 0 < sig.count < 1000


def test_max_position_caps_the_count() -> None:
    capped = DetectionContext(STANDARD, D(10000), 7)
    (sig,) = edges(evaluate([("0.50", "1000")], ctx=capped))
    assert sig.count == 7


def test_depth_walk_stops_at_first_level_below_min_edge() -> None:
    # edges: 0.50 -> 0.066, 0.52 -> 0.047 (< 0.05): only the first level counts, though 0.52 has depth.
    (sig,) = edges(evaluate([("0.50", "3"), ("0.52", "50"), ("0.53", "50")]))
    assert sig.count == 3 and sig.limit_price == D("0.50")


def test_edge_below_min_edge_gives_nothing() -> None:
    assert edges(evaluate([("0.53", "100")])) == []


def test_no_side_uses_one_minus_fair() -> None:
    flipped = quotes(**{b: {DET: 130, GB: -150} for b in BOOKS})
    # YES (DET) at 0.60 is far above fair 0.416: no YES signal; the NO side is asked through YES bids.
    assert evaluate([("0.60", "10")], prices=flipped).signals == ()
    event = h2h_event("e1", DET, GB, flipped)
    book = parse_orderbook(TICKER, {"orderbook_fp": {"yes_dollars": [["0.50", "10"]], "no_dollars": []}})
    res = evaluate_market(market(TICKER, EVENT), book, winner(TICKER, EVENT, "e1", DET), event, CTX, NOW)
    (sig,) = edges(res)
    assert sig.side is Side.NO and sig.ask == D("0.50")
    assert sig.fair == pytest.approx(1 - power([100 / 230, 0.6])[0])


def test_stale_book_excluded() -> None:
    ages = {"draftkings": STANDARD.max_quote_age_s + 1}
    (sig,) = edges(evaluate([("0.50", "10")], ages=ages))
    assert "draftkings" not in sig.books and sig.books_agree == 3


def _quoted_at(book: str, when: datetime) -> OddsEvent:
    """The standard game with ``book``'s quotes stamped ``when``."""
    event = h2h_event("e1", DET, GB, quotes())
    books = tuple(
        replace(bm, markets=tuple(replace(m, last_update=when) for m in bm.markets)) if bm.key == book else bm
        for bm in event.bookmakers
    )
    return replace(event, bookmakers=books)


def _evaluate_event(event: OddsEvent):  # type: ignore[no-untyped-def]
    book = yes_asks(TICKER, [("0.50", "10")])
    return evaluate_market(market(TICKER, EVENT), book, winner(TICKER, EVENT, "e1", DET), event, CTX, NOW)


def test_a_quote_max_age_old_is_fresh_and_a_microsecond_older_is_stale() -> None:
    """Ages are counted in whole microseconds, as the screen counts them: the two agree at the boundary."""
    limit = timedelta(seconds=STANDARD.max_quote_age_s)
    (at_limit,) = edges(_evaluate_event(_quoted_at("draftkings", NOW - limit)))
    assert "draftkings" in at_limit.books
    (older,) = edges(_evaluate_event(_quoted_at("draftkings", NOW - limit - timedelta(microseconds=1))))
    assert "draftkings" not in older.books and older.books_agree == 3


def test_a_quote_time_without_a_zone_is_no_view_and_says_so() -> None:
    """Only code can build one (the parser refuses it); it has no age, so the book gives no view."""
    naive = (NOW - timedelta(seconds=5)).replace(tzinfo=None)
    event = _quoted_at("draftkings", naive)
    (sig,) = edges(_evaluate_event(event))
    assert "draftkings" not in sig.books
    match = winner(TICKER, EVENT, "e1", DET)
    views, notes = book_views(event, match, BOOKS, STANDARD.max_quote_age_s, STANDARD.vig_method, NOW)
    assert [v.book for v in views] == [b for b in BOOKS if b != "draftkings"]
    assert notes == ["draftkings quote has no time zone, so no age"]


def test_consensus_short_by_one() -> None:
    ages = {"draftkings": 500, "fanduel": 500}
    result = evaluate([("0.50", "10")], ages=ages)
    assert edges(result) == []
    # With one book fewer than that, nothing prices the edge and the reason names the stale books.
    ages["betmgm"] = 500
    result = evaluate([("0.56", "10")], ages=ages)
    assert result.signals == ()
    assert result.skip is not None and "1 fresh books, 3 needed" in result.skip.reason
    assert "draftkings stale" in result.skip.reason


def test_books_that_do_not_see_the_edge_block_the_signal() -> None:
    # Two books see DET far less likely; the median still clears min_edge, but only 2 books agree.
    prices = quotes(draftkings={DET: -110, GB: -110}, fanduel={DET: -110, GB: -110})
    prices["betmgm"] = {DET: -250, GB: 200}
    result = evaluate([("0.50", "10")], prices=prices)
    assert all(s.kind is not SignalKind.EDGE for s in result.signals)


def test_book_outside_profile_is_ignored() -> None:
    prices = {"pinnacle": {DET: -400, GB: 300}, **quotes()}
    (sig,) = edges(evaluate([("0.50", "10")], prices=prices))
    assert "pinnacle" not in sig.books


def test_started_game_skipped() -> None:
    result = evaluate([("0.30", "10")], commence=NOW)
    assert result.signals == () and result.skip is not None and "started" in result.skip.reason


@pytest.mark.parametrize("status", ["closed", "initialized", "determined", "finalized"])
def test_inactive_market_skipped(status: str) -> None:
    event = h2h_event("e1", DET, GB, quotes())
    res = evaluate_market(
        market(TICKER, EVENT, status),
        yes_asks(TICKER, [("0.30", "10")]),
        winner(TICKER, EVENT, "e1", DET),
        event,
        CTX,
        NOW,
    )
    assert res.signals == () and res.skip is not None and status in res.skip.reason


def test_flat_fee_series_not_priced() -> None:
    ctx = DetectionContext(
        STANDARD, D(10000), 100, {"KXNFLGAME": SeriesInfo("KXNFLGAME", fees=FeeSchedule(FeeType.FLAT))}
    )
    result = evaluate([("0.30", "10")], ctx=ctx)
    assert result.signals == () and result.skip is not None and "flat" in result.skip.reason


def test_fee_multiplier_changes_the_edge() -> None:
    doubled = FeeSchedule(FeeType.QUADRATIC, D(2))
    ctx = DetectionContext(STANDARD, D(10000), 100, {"KXNFLGAME": SeriesInfo("KXNFLGAME", fees=doubled)})
    # 0.50: fee 0.035 -> edge 0.049 < 0.05 with the doubled multiplier, 0.066 with the default.
    assert edges(evaluate([("0.50", "10")], ctx=ctx)) == []
    assert edges(evaluate([("0.50", "10")]))


# --- true arbitrage (Kalshi side + sportsbook hedge) -----------------------------------------------


def test_arb_locks_a_profit_and_names_the_best_hedge() -> None:
    # Books agree DET ~0.58, but fanduel offers GB at +200 (stake 1/3). YES DET at 0.55 + GB at +200:
    # 1 - 0.55 - 0.017325 - 0.3333 > 0. (A sport without ties: see the NFL test below.)
    prices = quotes(fanduel={DET: -150, GB: 200})
    result = evaluate([("0.55", "20"), ("0.64", "20"), ("0.66", "5")], prices=prices, sport="basketball_nba")
    arbs = [s for s in result.signals if s.kind is SignalKind.ARB]
    (arb,) = arbs
    (hedge,) = arb.hedges
    assert (hedge.book, hedge.outcome, hedge.decimal_odds) == ("fanduel", GB, D(3))
    assert hedge.stake == D(1) / D(3)
    assert arb.margin == 1 - D("0.55") - fee("0.55") - hedge.stake
    # 0.64: 1 - 0.64 - 0.0161 - 0.3333 > 0; 0.66: 1 - 0.66 - 0.0157 - 0.3333 < 0 -> 40 contracts.
    assert arb.count == 40 and arb.limit_price == D("0.64")
    assert arb.ev == (1 - hedge.stake) * 40 - arb.cost - arb.fees
    assert arb.ev > 0


def test_nfl_arb_must_survive_a_tie() -> None:
    # A tie settles DET YES at $0.50 and the book refunds the GB stake: only levels with
    # price + fee <= 0.50 are locked. 0.47 + 0.0174 qualifies; 0.49 + 0.0175 does not.
    prices = quotes(fanduel={DET: -150, GB: 200})
    result = evaluate([("0.47", "10"), ("0.49", "30")], prices=prices)
    (arb,) = [s for s in result.signals if s.kind is SignalKind.ARB]
    assert arb.count == 10 and arb.limit_price == D("0.47")
    assert arb.margin == D("0.5") - D("0.47") - fee("0.47")  # the worst case (the tie) is reported
    high = evaluate([("0.55", "20")], prices=prices)
    assert all(s.kind is not SignalKind.ARB for s in high.signals)


@pytest.mark.parametrize("cents", range(1, 100))
def test_the_float_screens_keep_every_nfl_arb_the_tie_guard_allows(cents: int) -> None:
    """The float pre-screen in front of the exact arb rule knows the tie guard; at every best ask it keeps
    exactly the arbs the Decimal rule finds: margin min(1 - p_eff - stake, 0.50 - p_eff) > 0."""
    ask = D(cents) / 100
    prices = quotes(fanduel={DET: -150, GB: 200})  # the cheapest GB hedge: stake 1/3
    result = evaluate([(str(ask), "10")], prices=prices)
    p_eff = ask + fee(str(ask))
    stake = D(1) / D(3)
    locked = min(D(1) - p_eff - stake, D("0.5") - p_eff) > 0
    assert any(s.kind is SignalKind.ARB for s in result.signals) == locked


def test_arb_needs_no_consensus() -> None:
    ages = {"draftkings": 999, "betmgm": 999, "williamhill_us": 999}
    prices = quotes(fanduel={DET: -150, GB: 200})
    result = evaluate([("0.55", "10")], prices=prices, ages=ages, sport="basketball_nba")
    assert [s.kind for s in result.signals] == [SignalKind.ARB]


def test_arb_ignores_stale_hedge_prices() -> None:
    result = evaluate([("0.55", "10")], prices=quotes(fanduel={DET: -150, GB: 200}), ages={"fanduel": 999})
    assert all(s.kind is not SignalKind.ARB for s in result.signals)


def test_no_arb_when_margin_is_negative() -> None:
    result = evaluate([("0.55", "10")])
    assert all(s.kind is not SignalKind.ARB for s in result.signals)


# --- spreads and totals ---------------------------------------------------------------------------


def spread_event(line: float) -> object:
    spreads = [
        {
            "key": "spreads",
            "outcomes": [
                {"name": DET, "price": -110, "point": -line},
                {"name": GB, "price": -110, "point": line},
            ],
        }
    ]
    return h2h_event("e1", DET, GB, quotes(), extra_markets=dict.fromkeys(BOOKS, spreads))


def test_spread_priced_only_at_the_same_line() -> None:
    ticker = "KXNFLSPREAD-26NOV26GBDET-DET3"
    evt = "KXNFLSPREAD-26NOV26GBDET"
    match = MarketMatch(ticker, evt, "e1", MarketKind.SPREAD, DET, D("-2.5"))
    book = yes_asks(ticker, [("0.40", "10")])
    same = evaluate_market(market(ticker, evt), book, match, spread_event(2.5), CTX, NOW)  # type: ignore[arg-type]
    (sig,) = [s for s in same.signals if s.kind is SignalKind.EDGE]
    assert sig.fair == pytest.approx(0.5)
    other = evaluate_market(market(ticker, evt), book, match, spread_event(3.5), CTX, NOW)  # type: ignore[arg-type]
    assert other.signals == () and other.skip is not None and "no quote at this line" in other.skip.reason


def test_whole_number_line_never_an_arb() -> None:
    ticker = "KXNFLSPREAD-26NOV26GBDET-DET4"
    evt = "KXNFLSPREAD-26NOV26GBDET"
    match = MarketMatch(ticker, evt, "e1", MarketKind.SPREAD, DET, D("-3"))
    book = yes_asks(ticker, [("0.20", "10")])
    res = evaluate_market(market(ticker, evt), book, match, spread_event(3), CTX, NOW)  # type: ignore[arg-type]
    assert res.signals and all(s.kind is SignalKind.EDGE for s in res.signals)


# --- Kalshi-only arbitrage --------------------------------------------------------------------------


def group_books(det: list[tuple[str, str]], gb: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    m1, m2 = market(f"{EVENT}-DET", EVENT), market(f"{EVENT}-GB", EVENT)
    return (m1, m2), {m1.ticker: yes_asks(m1.ticker, det), m2.ticker: yes_asks(m2.ticker, gb)}


def test_kalshi_arb_yes_plus_yes() -> None:
    group, books = group_books([("0.45", "30"), ("0.49", "100")], [("0.48", "20"), ("0.50", "100")])
    (sig,) = evaluate_group(group, books, CTX)
    assert sig.kind is SignalKind.KALSHI_ARB and sig.side is Side.YES
    assert sig.tickers == (f"{EVENT}-DET", f"{EVENT}-GB")
    # 0.45 + 0.48 + fees 0.0346 < 1 for 20 pairs; then 0.45 + 0.50 + 0.0348 < 1 for 10 more;
    # then 0.49 + 0.50 + 0.035 >= 1 stops: 30 pairs.
    assert sig.count == 30
    assert sig.leg_limits == (D("0.45"), D("0.50"))
    assert sig.ev == 30 - sig.cost - sig.fees and sig.ev > 0


def test_kalshi_arb_no_plus_no() -> None:
    m1, m2 = market(f"{EVENT}-DET", EVENT), market(f"{EVENT}-GB", EVENT)
    b1 = parse_orderbook(m1.ticker, {"orderbook_fp": {"yes_dollars": [["0.55", "10"]], "no_dollars": []}})
    b2 = parse_orderbook(m2.ticker, {"orderbook_fp": {"yes_dollars": [["0.52", "10"]], "no_dollars": []}})
    (sig,) = evaluate_group((m1, m2), {m1.ticker: b1, m2.ticker: b2}, CTX)
    # NO asks 0.45 and 0.48: pays $1 (exactly one team loses).
    assert sig.side is Side.NO and sig.count == 10 and sig.ev > 0


def test_kalshi_arb_needs_strictly_less_than_a_dollar() -> None:
    group, books = group_books([("0.48", "10")], [("0.49", "10")])  # 0.97 + 0.0349 >= 1
    assert evaluate_group(group, books, CTX) == ()


@pytest.mark.parametrize("det", [f"0.{c}" for c in range(460, 521, 3)])
def test_kalshi_arb_float_screen_keeps_every_set_under_its_payoff(det: str) -> None:
    """Around the boundary, a YES set is found exactly when its Decimal cost with fees is under $1, and a NO
    set exactly when it is under n - 1 = $1 (the float pre-screen never refuses one the exact rule keeps).
    Each market's YES bid sits two cents under its YES ask, so its NO ask is 1.02 - the YES ask."""
    m1, m2 = market(f"{EVENT}-DET", EVENT), market(f"{EVENT}-GB", EVENT)
    for gb in (f"0.{c}" for c in range(460, 521)):  # tenth-of-a-cent steps: costs within $0.001 of the payoff
        asks = {m1.ticker: D(det), m2.ticker: D(gb)}
        books = {t: yes_asks(t, [(str(a), "10")], yes_bids=[(str(a - D("0.02")), "10")]) for t, a in asks.items()}
        sides = {s.side for s in evaluate_group((m1, m2), books, CTX)}
        yes_cost = sum((a + fee(str(a)) for a in asks.values()), D(0))
        no_cost = sum((D("1.02") - a + fee(str(D("1.02") - a)) for a in asks.values()), D(0))
        assert (Side.YES in sides) == (yes_cost < 1), (det, gb)
        assert (Side.NO in sides) == (no_cost < 1), (det, gb)


def test_kalshi_arb_skips_inactive_group() -> None:
    m1, m2 = market(f"{EVENT}-DET", EVENT, "closed"), market(f"{EVENT}-GB", EVENT)
    books = {m1.ticker: yes_asks(m1.ticker, [("0.30", "10")]), m2.ticker: yes_asks(m2.ticker, [("0.30", "10")])}
    assert evaluate_group((m1, m2), books, CTX) == ()


# --- full pass ------------------------------------------------------------------------------------


def test_detect_reports_unmatched_and_ranks_by_ev() -> None:
    e1 = h2h_event("e1", DET, GB, quotes())
    e2 = h2h_event(
        "e2",
        "Chicago Bears",
        "Minnesota Vikings",
        {b: {"Chicago Bears": -150, "Minnesota Vikings": 130} for b in BOOKS},
    )
    m1 = market(TICKER, EVENT)
    m2 = market("KXNFLGAME-26NOV26MINCHI-CHI", "KXNFLGAME-26NOV26MINCHI")
    m3 = market("KXNFLGAME-26NOV26XXXYYY-XXX", "KXNFLGAME-26NOV26XXXYYY")
    books = {
        m1.ticker: yes_asks(m1.ticker, [("0.50", "10")]),
        m2.ticker: yes_asks(m2.ticker, [("0.45", "10")]),
    }
    mapping = MappingResult(
        {
            m1.ticker: winner(m1.ticker, m1.event_ticker, "e1", DET),
            m2.ticker: winner(m2.ticker, m2.event_ticker, "e2", "Chicago Bears"),
        }
    )
    result = detect([m1, m2, m3], books, [e1, e2], mapping, CTX, NOW)
    evs = [s.ev for s in result.signals]
    assert evs == sorted(evs, reverse=True)
    assert [s.ticker for s in edges(result)] == [m2.ticker, m1.ticker]
    assert [s.ticker for s in result.skipped] == [m3.ticker]


def test_profiles_change_decisions() -> None:
    # Edge 0.04: only AGGRESSIVE (0.03) and VERY_AGGRESSIVE (0.02) take it.
    asks = [("0.525", "10")]
    taken = {
        name: bool(edges(evaluate(asks, ctx=DetectionContext(build_profile(name), D(10000), 100))))
        for name in ProfileName
        if name is not ProfileName.CUSTOM
    }
    assert taken == {
        ProfileName.CONSERVATIVE: False,
        ProfileName.STANDARD: False,
        ProfileName.AGGRESSIVE: True,
        ProfileName.VERY_AGGRESSIVE: True,
    }


def test_game_tomorrow_is_fine() -> None:
    assert edges(evaluate([("0.50", "10")], commence=NOW + timedelta(days=1)))
