"""Boards with every shape of sportsbook quote the detection rules distinguish, for the tests that hold the
screened and the cold-built paths to the exact rules: three-way soccer winners, spreads (half and whole
points, the same point written two ways), totals (over and under), books that name a team differently,
a bookmaker or market listed twice, books outside the profile, markets with one or four outcomes,
repeated outcome names, lines a book does not quote, stale quotes and unpriceable odds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engine.mapping.types import MappingResult, MarketKind, MarketMatch
from engine.markets.kalshi import KalshiMarket, Level, Orderbook
from engine.markets.odds import Bookmaker, BookMarket, OddsEvent, Outcome

BOOKS = ("draftkings", "fanduel", "betmgm", "williamhill_us", "pinnacle")
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def _odds(rng: random.Random, p: float) -> Decimal:
    """Decimal odds for probability ``p`` with a random margin; now and then 1.01 (nearly certain)."""
    if rng.random() < 0.03:
        return Decimal("1.01")
    q = min(0.97, max(0.03, p * rng.uniform(1.0, 1.08)))
    return (Decimal(1) / Decimal(str(round(q, 4)))).quantize(Decimal("0.0001"))


def _outcome(rng: random.Random, name: str, p: float, point: Decimal | None = None) -> Outcome:
    return Outcome(name, _odds(rng, p), point)


def _book_market(rng: random.Random, key: str, outcomes: tuple[Outcome, ...], max_age_s: float) -> BookMarket:
    return BookMarket(key, NOW - timedelta(seconds=rng.uniform(0, max_age_s * 1.5)), outcomes)


def _winner(rng: random.Random, home: str, away: str, three: bool, p: float) -> tuple[Outcome, ...]:
    if three:
        draw = rng.uniform(0.2, 0.3)
        outs = [_outcome(rng, home, p * (1 - draw)), _outcome(rng, away, (1 - p) * (1 - draw))]
        outs.append(_outcome(rng, "Draw", draw))
    else:
        outs = [_outcome(rng, home, p), _outcome(rng, away, 1 - p)]
    rng.shuffle(outs)
    return tuple(outs)


def _damage(rng: random.Random, outs: tuple[Outcome, ...], home: str) -> tuple[Outcome, ...]:
    """What a book can get wrong: a different name, a repeated name, one outcome too few or too many."""
    roll = rng.random()
    if roll < 0.1:
        return tuple(Outcome(f"{o.name} FC", o.decimal_odds, o.point) if o.name == home else o for o in outs)
    if roll < 0.15:
        return (*outs[:-1], Outcome(outs[0].name, outs[-1].decimal_odds, outs[0].point))
    if roll < 0.2:
        return outs[:1]
    if roll < 0.25:
        return (*outs, Outcome("Nobody", Decimal("9.5"), outs[0].point))
    return outs


def _lines(
    rng: random.Random, home: str, away: str, spread: Decimal, total: Decimal
) -> list[tuple[str, tuple[Outcome, ...]]]:
    p = rng.uniform(0.4, 0.6)
    shown = Decimal(str(spread)) if rng.random() < 0.8 else spread.quantize(Decimal("0.01"))  # 3.5 or 3.50
    spreads = (_outcome(rng, home, p, -shown), _outcome(rng, away, 1 - p, shown))
    if rng.random() < 0.1:  # this book hangs another number
        spreads = (_outcome(rng, home, p, -shown - 1), _outcome(rng, away, 1 - p, shown + 1))
    totals = (_outcome(rng, "Over", p, total), _outcome(rng, "Under", 1 - p, total))
    return [("spreads", spreads), ("totals", totals)]


def mixed_board(
    games: int, seed: int, max_age_s: float = 120.0
) -> tuple[list[KalshiMarket], dict[str, Orderbook], list[OddsEvent], MappingResult, list[tuple[KalshiMarket, ...]]]:
    """Kalshi markets, their books, the odds events, the mapping and the exhaustive winner groups."""
    rng = random.Random(seed)
    kalshi: list[KalshiMarket] = []
    books: dict[str, Orderbook] = {}
    events: list[OddsEvent] = []
    matches: dict[str, MarketMatch] = {}
    groups: list[tuple[KalshiMarket, ...]] = []
    for g in range(games):
        three = rng.random() < 0.4
        home, away = f"Home {g}", f"Away {g}"
        p = rng.uniform(0.25, 0.75)
        spread = Decimal(rng.choice(["3.5", "7", "1.5", "2.5", "10"]))
        total = Decimal(rng.choice(["44.5", "2.5", "45", "3"]))
        event_id = f"ev{g}"
        bookmakers = []
        for key in rng.sample(BOOKS, rng.randint(1, len(BOOKS))):
            markets = [_book_market(rng, "h2h", _damage(rng, _winner(rng, home, away, three, p), home), max_age_s)]
            if not three:
                markets += [_book_market(rng, k, o, max_age_s) for k, o in _lines(rng, home, away, spread, total)]
            if rng.random() < 0.1:  # a second listing of the same key: the first one counts
                markets.append(_book_market(rng, "h2h", _winner(rng, home, away, three, 1 - p), max_age_s))
            rng.shuffle(markets)
            bookmakers.append(Bookmaker(key, key, NOW, tuple(markets)))
            if rng.random() < 0.08:  # a second listing of the same bookmaker: the first one counts
                bookmakers.append(
                    Bookmaker(key, key, NOW, (_book_market(rng, "h2h", _winner(rng, home, away, three, p), max_age_s),))
                )
        sport = "soccer_epl" if three else rng.choice(["americanfootball_nfl", "basketball_nba"])
        start = NOW + timedelta(hours=rng.choice([-1, 2, 5]))
        if rng.random() > 0.05:
            events.append(OddsEvent(event_id, sport, start, home, away, tuple(bookmakers)))
        event_ticker = f"KXGAME-{g:04d}"
        winners = [home, away, "Draw"] if three else [home, away]
        if rng.random() < 0.1:
            winners.append("Somebody Else")  # a name no book uses
        rows: list[tuple[str, MarketKind, str, Decimal | None]] = [
            (f"W{k}", MarketKind.WINNER, name, None) for k, name in enumerate(winners)
        ]
        if not three:
            rows += [
                ("S1", MarketKind.SPREAD, home, -spread),
                ("S2", MarketKind.SPREAD, away, spread),
                ("T1", MarketKind.TOTAL, "Over", total),
                ("T2", MarketKind.TOTAL, "Under", total),
            ]
        mine: list[KalshiMarket] = []
        for code, kind, outcome, point in rows:
            ticker = f"{event_ticker}-{code}"
            market = KalshiMarket(ticker, event_ticker, "active" if rng.random() > 0.05 else "closed")
            kalshi.append(market)
            if kind is MarketKind.WINNER and outcome != "Somebody Else":
                mine.append(market)
            if rng.random() > 0.05:
                matches[ticker] = MarketMatch(ticker, event_ticker, event_id, kind, outcome, point)
            mid = Decimal(rng.randint(8, 92)) / 100
            yes = tuple(Level(mid - Decimal(k + 1) / 100, Decimal(30 * (k + 1))) for k in range(3))
            no = tuple(Level(Decimal(1) - mid - Decimal(k + 1) / 100, Decimal(25 * (k + 1))) for k in range(3))
            if rng.random() > 0.03:
                books[ticker] = Orderbook(ticker, yes if rng.random() > 0.03 else (), no)
        if len(mine) >= 2:
            groups.append(tuple(mine))
    return kalshi, books, events, MappingResult(matches), groups
