"""Kalshi sports ticker grammar: ``SERIES-YYMONDD[HHMM]<CODES>[G1|G2|digit]-<SUFFIX>``.

The ticker is the most reliable signal Kalshi gives (titles change format within a season), but the two
team codes are run together without a separator, so this module never splits them itself: callers take
the codes from the market suffixes or from a team table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from typing import NamedTuple

_MONTHS = {
    m: i
    for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)
}
_EVENT_BODY = re.compile(r"^(?P<yy>\d{2})(?P<mon>[A-Z]{3})(?P<dd>\d{2})(?P<hhmm>\d{4})?(?P<rest>[A-Z][A-Z0-9-]*)$")
_GAME_NO = re.compile(r"^(?P<codes>.*?[A-Z])(?:G(?P<g>[12])|(?P<d>[12]))$")
_SPREAD_SUFFIX = re.compile(r"^(?P<code>[A-Z][A-Z-]*?)(?P<n>\d+)$")
_TOTAL_SUFFIX = re.compile(r"^\d+$")


class TickerError(ValueError):
    """An event ticker that does not follow the sports grammar; the message says which part failed."""


class EventTicker(NamedTuple):
    """The parts of a sports event ticker.

    ``codes`` is the run-together team codes (hyphens removed: 2025 used ``M-OH``), ``game`` the doubleheader
    number (1 or 2) or None, ``start`` the scheduled Eastern start time when the ticker carries it. A named
    tuple (immutable, cheap to build): a mapping pass parses one per Kalshi event.
    """

    series: str
    day: date
    start: time | None
    codes: str
    game: int | None


@lru_cache(maxsize=65536)
def parse_event_ticker(event_ticker: str) -> EventTicker:
    """Parse (memoised: the same events are re-mapped on every poll); raises :class:`TickerError`."""
    series, sep, body = event_ticker.partition("-")
    if not sep or not body:
        raise TickerError(f"{event_ticker}: no date/teams segment after the series")
    m = _EVENT_BODY.match(body.upper())
    if m is None:
        raise TickerError(f"{event_ticker}: segment {body!r} is not YYMONDD[HHMM]<TEAMS>")
    yy, mon, dd, hhmm, raw = m.groups()
    month = _MONTHS.get(mon)
    if month is None:
        raise TickerError(f"{event_ticker}: unknown month {mon!r}")
    try:
        day = date(2000 + int(yy), month, int(dd))
    except ValueError:
        raise TickerError(f"{event_ticker}: impossible date in {body!r}") from None
    start: time | None = None
    if hhmm:
        hh, mm = int(hhmm[:2]), int(hhmm[2:])
        if hh > 23 or mm > 59:
            raise TickerError(f"{event_ticker}: impossible start time {hhmm!r}")
        start = time(hh, mm)
    rest = raw.replace("-", "")
    game: int | None = None
    g = _GAME_NO.match(rest) if rest[-1] in "12" else None  # a game number is the last character
    if g is not None:
        game = int(g["g"] or g["d"])
        rest = g["codes"]
    if not rest.isalpha():
        raise TickerError(f"{event_ticker}: team segment {raw!r} is not letters")
    return EventTicker(series, day, start, rest, game)


@dataclass(frozen=True, slots=True)
class Suffix:
    """A market suffix: ``kind`` is ``team`` (winner), ``tie``, ``team_line`` (spread) or ``line`` (total)."""

    kind: str
    code: str = ""
    number: int | None = None


@lru_cache(maxsize=65536)
def parse_suffix(suffix: str) -> Suffix:
    """Parse (memoised: suffixes are mostly team codes, shared by thousands of markets)."""
    s = suffix.upper()
    if s == "TIE":
        return Suffix("tie")
    if _TOTAL_SUFFIX.match(s):
        return Suffix("line", number=int(s))
    m = _SPREAD_SUFFIX.match(s)
    if m is not None:
        return Suffix("team_line", m["code"].replace("-", ""), int(m["n"]))
    if s.replace("-", "").isalpha():
        return Suffix("team", s.replace("-", ""))
    raise TickerError(f"market suffix {suffix!r} is neither a team code, TIE, code+line nor a line")


def orient(codes: str, known: str) -> tuple[str, str] | None:
    """Split run-together ``codes`` given one of the two codes: (first, second) in ticker order.

    None when ``known`` is neither a prefix nor a suffix, or when it is both (``NYNY``-style), which would
    leave the order ambiguous.
    """
    first = codes.startswith(known) and len(codes) > len(known)
    last = codes.endswith(known) and len(codes) > len(known)
    if first and last:
        return None
    if first:
        return known, codes[len(known) :]
    if last:
        return codes[: -len(known)], known
    return None
