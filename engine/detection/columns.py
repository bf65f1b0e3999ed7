"""The sportsbook side of the screen's arrays: each market's per-book vig-free probability, quote time and
hedge prices, built for the whole board at once or rewritten for one event in place.

A cold pass is dominated by walking the quote objects, so it does the least Python per quote: a game's
two or three winner markets share one sportsbook market per book, read once (names, implied
probabilities, time) into flat lists; vig removal, the YES/NO selection and the hedge legs then happen in
numpy over every market and book together (:mod:`engine.detection.vig_arrays`). Spread and total lines,
and books that name a game's outcomes differently from its other books, take the scalar path one cell at
a time, the same path a single quote change takes. No per-market objects outlive the pass, so the
collector has nothing new to walk.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from engine.config.profiles import Profile
from engine.detection.quotes import line_outcomes
from engine.detection.screen import MAX_HEDGE_LEGS, NO_TIME, ScreenArrays, micros
from engine.detection.vig_arrays import remove_vig_flat
from engine.errors import PricingError
from engine.mapping.types import MarketKind, MarketMatch
from engine.markets.odds import Bookmaker, BookMarket, OddsEvent
from engine.pricing.vig import remove_vig

WINNER = MarketKind.WINNER
H2H = MarketKind.WINNER.value
Cell = tuple[float, int, float, float, float]
"""fair YES, quote time (us), the two hedge legs of YES (0 pads a two-way market), the hedge of NO."""


def _book_list(event: OddsEvent, books: Sequence[str]) -> list[Bookmaker | None]:
    """The profile's books in its order; like ``OddsEvent.bookmaker``, the first listing of a key wins."""
    by_key = {bm.key: bm for bm in reversed(event.bookmakers)}
    return [by_key.get(key) for key in books]


def _market(bookmaker: Bookmaker | None, key: str) -> BookMarket | None:
    """``Bookmaker.market`` (the first listing of a key wins), inlined: a cold pass calls it per book."""
    if bookmaker is not None:
        for market in bookmaker.markets:
            if market.key == key:
                return market
    return None


def _legs(names: Sequence[str], yes: int) -> tuple[int, int]:
    """Positions of the outcomes YES does not pay on, in name order so books line up leg by leg; -1 pads."""
    if len(names) == 2:
        return 1 - yes, -1
    others = sorted((k for k in range(len(names)) if k != yes), key=lambda k: names[k])
    return others[0], (others[1] if len(others) > 1 else -1)


def cell(market: BookMarket | None, match: MarketMatch, profile: Profile) -> Cell | None:
    """One book's view of one market, computed as the exact rules do (None where they see no view)."""
    if market is None:
        return None
    selected = line_outcomes(market, match)
    if selected is None:
        return None
    outcomes, yes = selected
    if len(outcomes) - 1 > MAX_HEDGE_LEGS:
        return None
    implied = [o.implied for o in outcomes]
    try:
        fair = remove_vig(implied, profile.vig_method)
    except PricingError:
        return None
    first, second = _legs([o.name for o in outcomes], yes)
    leg2 = implied[second] if second >= 0 else 0.0
    return fair[yes], micros(market.last_update), implied[first], leg2, implied[yes]


def write_cell(arrays: ScreenArrays, i: int, j: int, value: Cell | None) -> None:
    if value is None:
        arrays.fair[i, j], arrays.updated_us[i, j] = math.nan, NO_TIME
        arrays.hedge_yes[i, j], arrays.hedge_no[i, j] = math.inf, math.inf
        return
    fair, updated, leg1, leg2, hedge_no = value
    arrays.fair[i, j], arrays.updated_us[i, j] = fair, updated
    arrays.hedge_yes[i, j, 0], arrays.hedge_yes[i, j, 1], arrays.hedge_no[i, j] = leg1, leg2, hedge_no


class QuoteSources:
    """The quote object each cell was computed from: a change rewrites only the cells whose object changed
    (quote objects are immutable, so the same object means the same numbers)."""

    def __init__(self, rows: int, books: int) -> None:
        self.books = books
        self.objects: list[BookMarket | None] = [None] * (rows * books)


def write_event(
    arrays: ScreenArrays,
    sources: QuoteSources,
    event: OddsEvent,
    rows: Sequence[int],
    matches: Sequence[MarketMatch | None],
    profile: Profile,
) -> None:
    """Rewrite the rows of one event in place: the start time, and the cells whose quote object changed."""
    arrays.set_commence(rows, micros(event.commence_time))
    bookmakers = _book_list(event, profile.books)
    b = sources.books
    objects = sources.objects
    for i in rows:
        match = matches[i]
        assert match is not None
        key = match.market_key.value
        for j, bookmaker in enumerate(bookmakers):
            market = _market(bookmaker, key)
            slot = i * b + j
            if objects[slot] is market:  # also None twice: the cell already says "no quote"
                continue
            objects[slot] = market
            write_cell(arrays, i, j, cell(market, match, profile))
        arrays.version[i] += 1


def clear_event(arrays: ScreenArrays, sources: QuoteSources, rows: Sequence[int]) -> None:
    """The event is gone (or refused): its markets have no quotes and no start time."""
    arrays.set_commence(rows, NO_TIME)
    b = sources.books
    for i in rows:
        for j in range(b):
            sources.objects[i * b + j] = None
            write_cell(arrays, i, j, None)
        arrays.version[i] += 1


class _Flat:
    """Sportsbook winner markets laid end to end for the vectorised part of a cold build."""

    def __init__(self) -> None:
        self.implied: list[float] = []
        self.starts: list[int] = []
        self.sizes: list[int] = []
        self.times: list[float] = []

    def winner_units(self, markets: Sequence[BookMarket | None]) -> tuple[list[int], tuple[str, ...] | None]:
        """One unit per book for a game's winner market (-1 where no winner line can use the book's), and
        the outcome names when every such book names them alike, in the same order (None otherwise)."""
        implied, starts, sizes, times = self.implied, self.starts, self.sizes, self.times
        units: list[int] = []
        shared: tuple[str, ...] | None = ()
        for market in markets:
            if market is None:
                units.append(-1)
                continue
            outcomes = market.outcomes
            size = len(outcomes)
            if size == 2:
                first, second = outcomes
                names: tuple[str, ...] = (first.name, second.name)
                if names[0] == names[1]:
                    units.append(-1)
                    continue
                units.append(len(starts))
                starts.append(len(implied))
                implied.append(first.implied)
                implied.append(second.implied)
            elif size == 3:
                names = tuple(o.name for o in outcomes)
                if len(set(names)) != 3:
                    units.append(-1)
                    continue
                units.append(len(starts))
                starts.append(len(implied))
                implied.extend(o.implied for o in outcomes)
            else:
                units.append(-1)
                continue
            sizes.append(size)
            times.append(market.last_update.timestamp())
            if shared == ():
                shared = names
            elif shared != names:
                shared = None
        return units, shared


def build_all(
    arrays: ScreenArrays,
    sources: QuoteSources,
    event_rows: Mapping[str, Sequence[int]],
    matches: Sequence[MarketMatch | None],
    events: Mapping[str, OddsEvent],
    profile: Profile,
) -> None:
    """Every row's quote columns from scratch."""
    arrays.clear_quotes()
    b = sources.books
    objects: list[BookMarket | None] = [None] * (len(arrays.tickers) * b)
    sources.objects = objects
    commence = arrays.commence_l
    flat = _Flat()
    event_units: list[int] = [-1] * b  # b per game with shared winner units; game 0 has none
    cell_rows: list[int] = []  # rows whose cells come from shared winner units, in this order
    cell_game: list[int] = []  # per such row: its game's index into event_units
    cell_rel: list[int] = []  # per such row: YES position, first and second hedge leg (-1 pads)
    scalar: list[tuple[int, int, Cell | None]] = []
    for event_id, rows in event_rows.items():
        event = events.get(event_id)
        if event is None:
            continue
        start = micros(event.commence_time)
        for i in rows:
            commence[i] = start
        bookmakers = _book_list(event, profile.books)
        h2h: list[BookMarket | None] | None = None
        game = 0
        shared: tuple[str, ...] | None = ()
        rel_of: dict[str, tuple[int, int, int] | None] = {}
        for i in rows:
            match = matches[i]
            assert match is not None
            if match.market_key is not WINNER:
                key = match.market_key.value
                for j, bookmaker in enumerate(bookmakers):
                    market = _market(bookmaker, key)
                    objects[i * b + j] = market
                    scalar.append((i, j, cell(market, match, profile)))
                continue
            if h2h is None:
                h2h = [_market(bm, H2H) for bm in bookmakers]
                units, shared = flat.winner_units(h2h)
                game = len(event_units) // b
                event_units.extend(units)
            objects[i * b : i * b + b] = h2h
            if shared is None:  # books name the outcomes differently: one cell at a time
                for j, market in enumerate(h2h):
                    scalar.append((i, j, cell(market, match, profile)))
                continue
            outcome = match.outcome
            if outcome in rel_of:
                rel = rel_of[outcome]
            else:
                rel = rel_of[outcome] = _relative(shared, outcome)
            cell_rows.append(i)
            if rel is None:
                cell_game.append(0)
                cell_rel.extend((0, 0, -1))
            else:
                cell_game.append(game)
                cell_rel.extend(rel)
    arrays.commence_us[:] = commence
    _write_units(arrays, flat, event_units, cell_rows, cell_game, cell_rel, profile)
    for i, j, value in scalar:
        write_cell(arrays, i, j, value)


def _relative(names: tuple[str, ...], outcome: str) -> tuple[int, int, int] | None:
    """Positions of YES and of its hedge legs within a shared unit; None if no outcome is YES's."""
    if outcome not in names:
        return None
    yes = names.index(outcome)
    return (yes, *_legs(names, yes))


def _write_units(
    arrays: ScreenArrays,
    flat: _Flat,
    event_units: list[int],
    cell_rows: list[int],
    cell_game: list[int],
    cell_rel: list[int],
    profile: Profile,
) -> None:
    """Vig removal, YES selection and hedge legs for every shared-unit cell in a few array operations."""
    if not cell_rows or not flat.starts:
        return  # no usable unit: the cleared columns already say "no quote"
    b = arrays.books
    rows = np.array(cell_rows, dtype=np.intp)
    units = np.array(event_units, dtype=np.intp).reshape(-1, b)[np.array(cell_game, dtype=np.intp)]
    rel = np.array(cell_rel, dtype=np.intp).reshape(-1, 1, 3)
    implied = np.array(flat.implied)
    starts = np.array(flat.starts, dtype=np.intp)
    fair_flat, ok = remove_vig_flat(implied, starts, np.array(flat.sizes, dtype=np.intp), profile.vig_method, (2, 3))
    times = np.rint(np.array(flat.times) * 1e6).astype(np.int64)
    valid = units >= 0
    safe = np.where(valid, units, 0)
    valid &= ok[safe]
    base = starts[safe]
    yes = base + rel[:, :, 0]
    leg1 = implied[base + rel[:, :, 1]]
    leg2 = np.where(rel[:, :, 2] >= 0, implied[base + np.maximum(rel[:, :, 2], 0)], 0.0)
    arrays.fair[rows] = np.where(valid, fair_flat[yes], np.nan)
    arrays.updated_us[rows] = np.where(valid, times[safe], NO_TIME)
    arrays.hedge_no[rows] = np.where(valid, implied[yes], np.inf)
    arrays.hedge_yes[rows, :, 0] = np.where(valid, leg1, np.inf)
    arrays.hedge_yes[rows, :, 1] = np.where(valid, leg2, np.inf)
