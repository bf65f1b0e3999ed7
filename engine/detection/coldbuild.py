"""The cold build of the screen's sportsbook columns: every event's quotes laid out flat, then every book's
view of every market decided and priced in a few numpy calls.

A cold pass is the path every start, every market refresh and every ``scan`` takes, and it used to be
Python walking the quote objects one book market at a time. Here the walk is C-level attribute reads
over flat lists (``map``, ``attrgetter``, ``chain``), and each decision the exact rules take per book
(:func:`engine.detection.quotes.book_views`) is an array operation over all markets and books at once:
which bookmaker listing counts (the first of a key), which market listing (the first of a key), whether
the book quotes the market's line (:func:`engine.detection.quotes.line_outcomes`), where YES sits and
which outcomes hedge it. Outcome names and points are compared through integer codes handed out by one
dict, so equality is exactly Python's equality (a Decimal point compares by value, as the exact rules
compare it). Winner, spread and total lines, and books that name a game's outcomes differently, all
take this path; :mod:`engine.detection.columns` is what one event's change takes, and the tests
hold the two to the same answers.

Only temporaries are allocated (a few flat lists and arrays), so the pass leaves nothing new for the
garbage collector to walk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain, count, repeat
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.config.profiles import Profile
from engine.detection.columns import QuoteSources
from engine.detection.screen import NO_TIME, ScreenArrays
from engine.detection.vig_arrays import remove_vig_flat, remove_vig_rows
from engine.mapping.types import MarketKind, MarketMatch
from engine.markets.odds import BookMarket, OddsEvent

Ints = npt.NDArray[np.intp]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

WINNER, SPREAD, TOTAL = 0, 1, 2
KIND_CODE: dict[str, int] = {
    MarketKind.WINNER.value: WINNER,
    MarketKind.SPREAD.value: SPREAD,
    MarketKind.TOTAL.value: TOTAL,
}
KINDS = 3
NO_CODE = -2
"""Code of a name or point no outcome carries: equal to no outcome's code (those are >= 0, pads -1)."""

_bookmakers = attrgetter("bookmakers")
_key = attrgetter("key")
_markets = attrgetter("markets")
_outcomes = attrgetter("outcomes")
_implied = attrgetter("implied")
_name = attrgetter("name")
_point = attrgetter("point")
_updated_us = attrgetter("updated_us")
_commence_us = attrgetter("commence_us")
_market_key = attrgetter("market_key")
_outcome = attrgetter("outcome")


def _sizes(items: Sequence[Sequence[Any]]) -> Ints:
    return np.fromiter(map(len, items), np.intp, len(items))


def _first(owner: Ints, code: Ints, width: int, owners: int) -> tuple[Ints, Ints]:
    """Positions, in order, of the first element of each (owner, code) pair with ``code >= 0``, and that
    pair as ``owner * width + code``: the first listing of a key wins, as in ``OddsEvent.bookmaker``.
    Repeated keys are rare, so a count tells first whether there is anything to drop."""
    keep = np.flatnonzero(code >= 0)
    pair = owner[keep] * width + code[keep]
    if pair.size == 0 or np.bincount(pair, minlength=owners * width).max() <= 1:
        return keep, pair
    first = np.sort(np.unique(pair, return_index=True)[1])
    return keep[first], pair[first]


def _gather(items: list[Any], positions: Ints) -> list[Any]:
    """``items`` at ``positions`` (increasing): the list itself when every item is kept."""
    return items if positions.size == len(items) else [items[i] for i in positions.tolist()]


class _Rows:
    """What each mapped row needs from its match, in the order the rows are built."""

    def __init__(self, matches: list[MarketMatch], names: dict[Any, int]) -> None:
        r = len(matches)
        self.kind = np.fromiter(map(KIND_CODE.__getitem__, map(_market_key, matches)), np.intp, r)
        self.name = np.fromiter(map(names.get, map(_outcome, matches), repeat(NO_CODE)), np.intp, r)
        self.lines = bool((self.kind != WINNER).any())


def build_all(
    arrays: ScreenArrays,
    sources: QuoteSources,
    event_rows: Mapping[str, Sequence[int]],
    matches: Sequence[MarketMatch | None],
    events: Mapping[str, OddsEvent],
    profile: Profile,
) -> None:
    """Every row's quote columns from scratch (rows of a missing event have no quotes and no start)."""
    arrays.clear_quotes()
    n, b = len(arrays.tickers), arrays.books
    sources.objects = [None] * (n * b)
    listed: list[OddsEvent] = []
    row_lists: list[Sequence[int]] = []
    for event_id, rows_of_event in event_rows.items():
        event = events.get(event_id)
        if event is not None:
            listed.append(event)
            row_lists.append(rows_of_event)
    if not listed:
        return
    e = len(listed)
    rows = np.fromiter(chain.from_iterable(row_lists), np.intp)
    row_event = np.repeat(np.arange(e), _sizes(row_lists))
    arrays.commence_us[rows] = np.fromiter(map(_commence_us, listed), np.int64, e)[row_event]
    arrays.commence_l = arrays.commence_us.tolist()
    row_matches = [matches[i] for i in rows.tolist()]

    # Bookmakers: the first listing of each profile book in each event.
    keys = list(dict.fromkeys(profile.books))
    key_code = {key: k for k, key in enumerate(keys)}
    width = len(keys)
    column_key = np.array([key_code[key] for key in profile.books], dtype=np.intp)
    per_event = list(map(_bookmakers, listed))
    bookmakers = list(chain.from_iterable(per_event))
    bm_code = np.fromiter(map(key_code.get, map(_key, bookmakers), repeat(-1)), np.intp, len(bookmakers))
    chosen, bm_pair = _first(np.repeat(np.arange(e), _sizes(per_event)), bm_code, width, e)

    # Their markets: the first listing of each kind; each is a "unit".
    per_book = list(map(_markets, _gather(bookmakers, chosen)))
    markets = list(chain.from_iterable(per_book))
    mk_code = np.fromiter(map(KIND_CODE.get, map(_key, markets), repeat(-1)), np.intp, len(markets))
    picked, unit_pair = _first(np.repeat(bm_pair, _sizes(per_book)), mk_code, KINDS, e * width)
    units: list[BookMarket] = _gather(markets, picked)
    u = len(units)
    unit_of = np.full(e * width * KINDS, u, dtype=np.intp)  # u: the empty sentinel unit
    unit_of[unit_pair] = np.arange(u)

    # Their outcomes, end to end, with a sentinel outcome last (pads and the sentinel unit point at it).
    per_unit = list(map(_outcomes, units))
    outcomes = list(chain.from_iterable(per_unit))
    total = len(outcomes)
    sizes = np.append(_sizes(per_unit), 0)
    starts = np.append(np.cumsum(sizes[:-1]) - sizes[:-1], total)
    implied = np.append(np.fromiter(map(_implied, outcomes), np.float64, total), [np.nan] * 3)  # legs reach +2
    codes: dict[Any, int] = {}  # an outcome's code is the position of the first outcome equal to it
    name_code = np.append(np.fromiter(map(codes.setdefault, map(_name, outcomes), count()), np.intp, total), -1)
    times = np.append(np.fromiter(map(_updated_us, units), np.int64, u), NO_TIME)
    span = max(3, int(sizes.max()))
    slot = np.arange(span)
    inside = slot < sizes[:, None]
    at = np.where(inside, starts[:, None] + slot, total)  # [unit, slot] -> outcome position

    # Cells: one per (row, profile book).
    facts = _Rows(row_matches, codes)
    cu = unit_of[(row_event[:, None] * width + column_key[None, :]) * KINDS + facts.kind[:, None]]
    first = starts[cu]
    names = name_code[at[cu]]  # [row, book, slot]
    is_yes = names == facts.name[:, None, None]
    ok, yes, leg1, leg2, fair = _winner_cells(cu, names, is_yes, sizes, starts, implied, outcomes, profile)
    winner = facts.kind == WINNER
    valid = ok & winner[:, None]
    if facts.lines:
        l_ok, l_yes, l_other, l_fair = _line_cells(row_matches, facts, cu, at, is_yes, implied, outcomes, profile)
        line = ~winner[:, None]
        valid |= l_ok & line
        yes = np.where(line, l_yes, yes)
        leg1 = np.where(line, l_other, leg1)
        leg2 = np.where(line, -1, leg2)
        fair = np.where(line, l_fair, fair)
    yes_price = implied[first + yes]
    arrays.fair[rows] = np.where(valid, fair, np.nan)
    arrays.updated_us[rows] = np.where(valid, times[cu], NO_TIME)
    arrays.hedge_no[rows] = np.where(valid, yes_price, np.inf)
    arrays.hedge_yes[rows, :, 0] = np.where(valid, implied[first + leg1], np.inf)
    second = np.where(leg2 >= 0, implied[first + np.maximum(leg2, 0)], 0.0)  # 0 pads a two-way market
    arrays.hedge_yes[rows, :, 1] = np.where(valid, second, np.inf)
    held = np.empty(u + 1, dtype=object)
    held[:u] = np.fromiter(units, dtype=object, count=u)
    cells = np.full(n * b, None, dtype=object)
    cells[(rows[:, None] * b + np.arange(b)).ravel()] = held[cu].ravel()
    sources.objects = cells.tolist()


def _winner_cells(
    cu: Ints,
    names: Ints,
    is_yes: Bools,
    sizes: Ints,
    starts: Ints,
    implied: Floats,
    outcomes: Sequence[Any],
    profile: Profile,
) -> tuple[Bools, Ints, Ints, Ints, Floats]:
    """A book's winner view: two or three distinctly named outcomes, one of them YES's; the others hedge
    YES in name order (so books line up leg by leg). Vig is removed once per unit."""
    size = sizes[cu]
    distinct = (names[..., 0] != names[..., 1]) & (
        (size == 2) | ((names[..., 0] != names[..., 2]) & (names[..., 1] != names[..., 2]))
    )
    yes = np.argmax(is_yes, axis=-1)
    ok = ((size == 2) | (size == 3)) & distinct & (is_yes.sum(axis=-1) == 1)
    other_a = np.where(yes == 0, 1, 0)
    other_b = np.where(yes == 2, 1, 2)
    three = ok & (size == 3)
    leg1 = np.where(size == 2, 1 - yes, other_a)
    leg2 = np.full(cu.shape, -1, dtype=np.intp)
    if three.any():
        rank = _name_rank(names[three][:, :3].ravel(), outcomes)
        name_a = np.take_along_axis(names, other_a[..., None], axis=-1)[..., 0]
        name_b = np.take_along_axis(names, other_b[..., None], axis=-1)[..., 0]
        swap = three & (rank[np.maximum(name_a, 0)] > rank[np.maximum(name_b, 0)])
        leg1 = np.where(three, np.where(swap, other_b, other_a), leg1)
        leg2 = np.where(three, np.where(swap, other_a, other_b), leg2)
    seen = np.zeros(sizes.shape[0], dtype=np.bool_)
    seen[cu[ok]] = True
    used = np.flatnonzero(seen)
    fair_flat, priced = remove_vig_flat(implied, starts[used], sizes[used], profile.vig_method, (2, 3))
    unit_priced = np.zeros(sizes.shape[0], dtype=np.bool_)
    unit_priced[used] = priced
    ok &= unit_priced[cu]
    return ok, yes, leg1, leg2, fair_flat[starts[cu] + yes]


def _name_rank(codes: Ints, outcomes: Sequence[Any]) -> Ints:
    """Rank of each name code in string order (only the codes given are ranked; codes are outcome positions)."""
    present = np.unique(codes)
    ordered = sorted(present.tolist(), key=lambda c: outcomes[c].name)
    rank = np.zeros(len(outcomes) + 1, dtype=np.intp)
    rank[np.array(ordered, dtype=np.intp)] = np.arange(len(ordered))
    return rank


def _line_cells(
    row_matches: Sequence[MarketMatch],
    facts: _Rows,
    cu: Ints,
    at: Ints,
    is_yes: Bools,
    implied: Floats,
    outcomes: Sequence[Any],
    profile: Profile,
) -> tuple[Bools, Ints, Ints, Floats]:
    """A book's spread or total view: exactly one outcome named YES's at its point, and exactly one other
    at the opposite handicap (spreads) or the same total (totals); vig is removed over that pair."""
    points: dict[Any, int] = {}
    total = len(outcomes)
    point_code = np.append(np.fromiter(map(points.setdefault, map(_point, outcomes), count()), np.intp, total), -1)
    mine, theirs = [], []
    for match in row_matches:
        point = match.point
        if match.market_key is MarketKind.WINNER or point is None:
            mine.append(NO_CODE)
            theirs.append(NO_CODE)
            continue
        mine.append(points.get(point, NO_CODE))
        theirs.append(points.get(-point if match.market_key is MarketKind.SPREAD else point, NO_CODE))
    pts = point_code[at[cu]]  # [row, book, slot]
    yes_here = is_yes & (pts == np.array(mine, dtype=np.intp)[:, None, None])
    other_here = ~is_yes & (pts == np.array(theirs, dtype=np.intp)[:, None, None])
    ok = (yes_here.sum(axis=-1) == 1) & (other_here.sum(axis=-1) == 1) & (facts.kind != WINNER)[:, None]
    yes = np.argmax(yes_here, axis=-1)
    other = np.argmax(other_here, axis=-1)
    start = at[cu][..., 0]
    pair = np.stack([implied[start + yes], implied[start + other]], axis=-1)
    fair = np.full(cu.shape, np.nan)
    flat_ok = ok.ravel()
    priced_rows, priced = remove_vig_rows(pair.reshape(-1, 2)[flat_ok], profile.vig_method)
    fair_flat = fair.ravel()
    fair_flat[np.nonzero(flat_ok)[0]] = priced_rows[:, 0]
    ok_flat = np.zeros(flat_ok.shape, dtype=np.bool_)
    ok_flat[np.nonzero(flat_ok)[0]] = priced
    return ok_flat.reshape(cu.shape), yes, other, fair_flat.reshape(cu.shape)
