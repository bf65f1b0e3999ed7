"""Each sportsbook's view of one mapped Kalshi market: the outcomes of the same line and the vig-free
probability that YES pays. A book whose line differs, or whose quote is stale, gives no view at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from engine.clock import NEVER, micros
from engine.errors import PricingError
from engine.mapping.types import MarketKind, MarketMatch
from engine.markets.odds import Bookmaker, BookMarket, OddsEvent, Outcome
from engine.pricing.vig import VigMethod, remove_vig


class BookView(NamedTuple):
    """One fresh book's quote for one Kalshi market. YES pays on ``outcomes[yes_index]`` only.

    A named tuple rather than a frozen dataclass: the exact rules build one per fresh book of every market
    they evaluate, and a tuple is several times cheaper to build."""

    book: str
    fair_yes: float
    outcomes: tuple[Outcome, ...]
    yes_index: int

    @property
    def yes_outcomes(self) -> tuple[Outcome, ...]:
        return (self.outcomes[self.yes_index],)

    @property
    def no_outcomes(self) -> tuple[Outcome, ...]:
        return self.outcomes[: self.yes_index] + self.outcomes[self.yes_index + 1 :]


def line_outcomes(market: BookMarket, match: MarketMatch) -> tuple[tuple[Outcome, ...], int] | None:
    """The outcomes of ``market`` that form the exact line ``match`` is priced on, and YES's index.

    None when the book does not quote that line: a different spread or total is never substituted.
    """
    outs = market.outcomes
    if match.market_key is MarketKind.WINNER:
        if len(outs) == 2:  # the usual moneyline, without building a list and a set
            first, second = outs[0].name, outs[1].name
            if first == second:
                return None
            if match.outcome == first:
                return outs, 0
            return (outs, 1) if match.outcome == second else None
        names = [o.name for o in outs]
        if len(set(names)) != len(names) or len(outs) not in (2, 3) or match.outcome not in names:
            return None
        return outs, names.index(match.outcome)
    if match.point is None:
        return None
    if match.market_key is MarketKind.SPREAD:
        yes = [o for o in outs if o.name == match.outcome and o.point == match.point]
        other = [o for o in outs if o.name != match.outcome and o.point == -match.point]
    else:
        yes = [o for o in outs if o.name == match.outcome and o.point == match.point]
        other = [o for o in outs if o.name != match.outcome and o.point == match.point]
    if len(yes) != 1 or len(other) != 1:
        return None
    return (yes[0], other[0]), 0


def profile_books(event: OddsEvent, books: Sequence[str]) -> list[Bookmaker | None]:
    """The event's listing of each of ``books``, in their order (None where it has none); like
    ``OddsEvent.bookmaker``, the first listing of a key wins."""
    by_key: dict[str, Bookmaker] = {}
    for bm in event.bookmakers:
        by_key.setdefault(bm.key, bm)
    return [by_key.get(key) for key in books]


def book_views(
    event: OddsEvent,
    match: MarketMatch,
    books: Sequence[str],
    max_quote_age_s: float,
    method: VigMethod,
    now: datetime,
) -> tuple[list[BookView], list[str]]:
    """Fresh views from the profile's ``books``, and a note for each book left out (stale, no line, ...)."""
    views: list[BookView] = []
    notes: list[str] = []
    kind = match.market_key  # a StrEnum: equal to the market key itself, without the enum's slow ``.value``
    now_us = micros(now)
    max_age_us = round(max_quote_age_s * 1_000_000)  # ages in whole microseconds, as the screen counts them
    for key, bookmaker in zip(books, profile_books(event, books), strict=True):
        if bookmaker is None:
            continue
        market = bookmaker.market(kind)
        if market is None:
            continue
        if market.updated_us == NEVER:
            notes.append(f"{key} quote has no time zone, so no age")
            continue
        age_us = now_us - market.updated_us
        if age_us > max_age_us:
            notes.append(f"{key} stale ({age_us / 1_000_000:.0f}s old)")
            continue
        selected = line_outcomes(market, match)
        if selected is None:
            notes.append(f"{key} has no quote at this line")
            continue
        outcomes, yes_index = selected
        try:
            fair = remove_vig([o.implied for o in outcomes], method)
        except PricingError as exc:
            notes.append(f"{key} unpriceable: {exc}")
            continue
        views.append(BookView(key, fair[yes_index], outcomes, yes_index))
    return views, notes
