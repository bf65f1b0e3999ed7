"""Each sportsbook's view of one mapped Kalshi market: the outcomes of the same line and the vig-free
probability that YES pays. A book whose line differs, or whose quote is stale, gives no view at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.errors import PricingError
from engine.mapping.types import MarketKind, MarketMatch
from engine.markets.odds import BookMarket, OddsEvent, Outcome
from engine.pricing.vig import VigMethod, remove_vig


@dataclass(frozen=True, slots=True)
class BookView:
    """One fresh book's quote for one Kalshi market. YES pays on ``outcomes[yes_index]`` only."""

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
    for key in books:
        bookmaker = event.bookmaker(key)
        if bookmaker is None:
            continue
        market = bookmaker.market(kind)
        if market is None:
            continue
        age = (now - market.last_update).total_seconds()
        if age > max_quote_age_s:
            notes.append(f"{key} stale ({age:.0f}s old)")
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
