"""The sportsbook side of the screen's arrays, one event at a time: each market's per-book vig-free
probability, quote time and hedge prices, rewritten in place when that event's quotes change.

A quote change touches a handful of cells, so it goes cell by cell in plain Python (cheaper than numpy at
that size) and only where the quote object changed. The whole board at once is
:mod:`engine.detection.coldbuild`, which the tests hold to the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.config.profiles import Profile
from engine.detection.quotes import line_outcomes, profile_books
from engine.detection.screen import NO_TIME, Cell, ScreenArrays
from engine.errors import PricingError
from engine.mapping.types import MarketKind, MarketMatch
from engine.markets.odds import Bookmaker, BookMarket, OddsEvent
from engine.pricing.vig import remove_vig

WINNER = MarketKind.WINNER


def _market(bookmaker: Bookmaker | None, key: str) -> BookMarket | None:
    """``Bookmaker.market`` (the first listing of a key wins), inlined: a cold pass calls it per book."""
    if bookmaker is not None:
        for market in bookmaker.markets:
            if market.key == key:
                return market
    return None


def line_cell(market: BookMarket, match: MarketMatch, profile: Profile) -> Cell | None:
    """One book's view of one spread or total market, computed as the exact rules do (None where they see no
    view); winner markets take :func:`winner_quote` and :func:`winner_cell`."""
    selected = line_outcomes(market, match)
    if selected is None:
        return None
    outcomes, yes = selected  # a line's view is YES's outcome and the one opposite it
    implied = [o.implied for o in outcomes]
    try:
        fair = remove_vig(implied, profile.vig_method)
    except PricingError:
        return None
    return fair[yes], market.updated_us, implied[1 - yes], 0.0, implied[yes]


WinnerQuote = tuple[tuple[str, ...], dict[str, int], list[float], list[float], int]
"""A winner market's outcome names, their positions, implied and vig-free probabilities, and quote time."""


def winner_quote(market: BookMarket, profile: Profile) -> WinnerQuote | None:
    """What every team market of a game reads from one book's winner quote, worked out once for all of
    them (None where the exact rules see no view for any team: names repeated, not 2-3 outcomes, or a
    price the vig removal refuses)."""
    outcomes = market.outcomes
    if len(outcomes) == 2:  # the usual moneyline, spelled out: a quote change works one out per book that moved
        first, second = outcomes
        names: tuple[str, ...] = (first.name, second.name)
        index = {names[0]: 0, names[1]: 1}
        implied = [first.implied, second.implied]
    else:
        names = tuple([o.name for o in outcomes])
        index = {name: k for k, name in enumerate(names)}
        implied = [o.implied for o in outcomes]
    if len(index) != len(names) or len(names) not in (2, 3):
        return None
    try:
        fair = remove_vig(implied, profile.vig_method)
    except PricingError:
        return None
    return names, index, implied, fair, market.updated_us


def winner_cell(quote: WinnerQuote | None, outcome: str) -> Cell | None:
    """One team market's cell from its book's :func:`winner_quote` (None where that book names no such team)."""
    if quote is None:
        return None
    names, index, implied, fair, updated = quote
    yes = index.get(outcome)
    if yes is None:
        return None
    if len(names) == 2:
        return fair[yes], updated, implied[1 - yes], 0.0, implied[yes]
    first, second = (k for k in range(3) if k != yes)  # the other two, in name order so books line up leg by leg
    if names[second] < names[first]:
        first, second = second, first
    return fair[yes], updated, implied[first], implied[second], implied[yes]


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
    *,
    same_event: bool = False,
) -> None:
    """Rewrite the rows of one event in place: the start time, and the cells whose quote changed.

    A row's version (which keeps its cached exact result) moves only when something the exact rules read
    for it changed. ``same_event``: the event's own fields they read (start time, sport) are as before.
    A quote equal by value to the one its cell holds changes nothing either: a poll brings new objects for
    every quote, and most of them repeat the last poll's, so those re-run neither the cell nor the rules."""
    if not same_event:
        arrays.set_commence(rows, event.commence_us)
    bookmakers = profile_books(event, profile.books)
    b = sources.books
    objects = sources.objects
    quotes_of: dict[str, list[BookMarket | None]] = {}  # the event's markets share one quote per book and kind
    equal: dict[tuple[int, int], bool] = {}  # (held, new) by id: compared once for all the rows that share them
    winners: dict[int, WinnerQuote | None] = {}  # by id: one book's winner quote, shared by the game's teams
    write = arrays.write_cell
    for i in rows:
        match = matches[i]
        assert match is not None
        key = match.market_key  # a StrEnum: equal to (and hashed as) the market key itself
        quotes = quotes_of.get(key)
        if quotes is None:
            quotes = quotes_of[key] = [_market(bookmaker, key) for bookmaker in bookmakers]
        moved = not same_event
        for j, market in enumerate(quotes):
            slot = i * b + j
            held = objects[slot]
            if held is market:  # also None twice: the cell already says "no quote"
                continue
            objects[slot] = market
            if held is not None and market is not None and held.updated_us == market.updated_us:
                pair = (id(held), id(market))
                same = equal.get(pair)
                if same is None:
                    same = equal[pair] = held == market
                if same:
                    continue
            if market is None:
                write(i, j, None)
            elif key is WINNER:
                ident = id(market)
                if ident in winners:
                    quote = winners[ident]
                else:
                    quote = winners[ident] = winner_quote(market, profile)
                write(i, j, winner_cell(quote, match.outcome))
            else:
                write(i, j, line_cell(market, match, profile))
            moved = True
        if moved:
            arrays.version[i] += 1


def clear_event(arrays: ScreenArrays, sources: QuoteSources, rows: Sequence[int]) -> None:
    """The event is gone (or refused): its markets have no quotes and no start time."""
    arrays.set_commence(rows, NO_TIME)
    b = sources.books
    for i in rows:
        for j in range(b):
            sources.objects[i * b + j] = None
            arrays.write_cell(i, j, None)
        arrays.version[i] += 1
