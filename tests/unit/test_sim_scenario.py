"""The scenario: seeded random walk, books around the hidden probability, mispricings that are real
arbitrages, and a snapshot that ``engine.markets.snapshot`` reads without errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.markets.snapshot import parse_snapshot
from engine.pricing.fees import FeeSchedule
from engine.sim.board import generate_board
from engine.sim.config import SimConfig
from engine.sim.exchange import Exchange
from engine.sim.faults import Faults
from engine.sim.odds_http import OddsServer
from engine.sim.odds_state import OddsState
from engine.sim.scenario import Scenario
from engine.sim.snapshot import dump_snapshot

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def _build(seed: int, games: int = 12) -> tuple[Scenario, Exchange, OddsState]:
    cfg = SimConfig(seed=seed)
    board = generate_board(seed, games, cfg.leagues, NOW)
    exchange = Exchange(board, NOW, Decimal(1000))
    odds = OddsState(board, cfg.bookmakers, 500)
    scenario = Scenario(cfg, board, exchange, odds, lambda: NOW)
    scenario.quote_all()
    return scenario, exchange, odds


async def test_same_seed_same_books_after_steps() -> None:
    a, ex_a, _ = _build(7)
    b, ex_b, _ = _build(7)
    c, _, _ = _build(8)
    for _ in range(5):
        await a.step()
        await b.step()
        await c.step()
    tickers = list(ex_a.markets)
    assert [ex_a.orderbook(t) for t in tickers] == [ex_b.orderbook(t) for t in tickers]
    assert a.true_home == b.true_home
    assert a.true_home != c.true_home


async def test_books_are_uncrossed_and_quote_near_the_hidden_probability() -> None:
    scenario, exchange, odds = _build(1)
    for _ in range(10):
        await scenario.step()
        for ticker in exchange.markets:
            bid = exchange.best_yes_bid(ticker)
            ask = exchange.best_yes_ask(ticker)
            assert bid is not None and ask is not None and bid < ask
            fair = Decimal(repr(scenario.probability(ticker)))
            assert abs((bid + ask) / 2 - fair) <= Decimal("0.11")
    for game in scenario.board.games:
        for book in odds.bookmakers:
            quote = odds.quote(game, book)
            assert quote is not None
            assert 1.0 < quote.home_implied + quote.away_implied < 1.1


async def test_some_mispricings_are_real_kalshi_arbitrages() -> None:
    scenario, exchange, _ = _build(1, games=24)
    arbs = 0
    for _ in range(20):
        await scenario.step()
        for game in scenario.board.games:
            asks = [exchange.best_yes_ask(t) for t in game.tickers]
            if None in asks:
                continue
            fees = sum(
                (FeeSchedule().trade_fee(a, Decimal(1)) for a in asks if a is not None),
                Decimal(0),
            )
            if sum(a for a in asks if a is not None) + fees < 1:
                arbs += 1
    assert arbs > 0


async def test_stale_books_keep_old_quotes() -> None:
    scenario, _, odds = _build(1)
    times = {k: q.last_update for k, q in odds.quotes.items()}
    later = datetime(2026, 11, 25, 20, 5, tzinfo=UTC)
    scenario.clock = lambda: later
    for _ in range(3):
        await scenario.step()
    stale = [k for k, q in odds.quotes.items() if q.last_update == times[k]]
    assert stale, "with stale_book_rate 0.1 over 48 quotes x 3 steps some books must stay old"
    assert len(stale) < len(odds.quotes)


async def test_snapshot_dump_parses_cleanly() -> None:
    scenario, exchange, odds = _build(1)
    server = OddsServer(odds, "key", Faults(), 30.0, lambda: NOW)
    doc = dump_snapshot(exchange, server, NOW)
    snap = parse_snapshot(doc)
    assert snap.errors == ()
    assert len(snap.markets) == 24 and len(snap.orderbooks) == 24
    assert set(snap.series) <= {"KXNFLGAME", "KXNBAGAME", "KXMLBGAME", "KXNHLGAME"}
    assert len(snap.odds) == 12
    assert all(len(e.bookmakers) == 4 for e in snap.odds)
    for ticker, book in snap.orderbooks.items():
        assert book == exchange.orderbook(ticker)
    assert scenario.steps == 0
