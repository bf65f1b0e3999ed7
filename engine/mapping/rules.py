"""What a Kalshi market's own words say: the YES team, the two teams, the date, the side of a line.

The ticker suffix decides the YES team and ``floor_strike`` the line; the text is a second, independent
witness. When it is present and contradicts the ticker, the market is not matched (a swapped YES side is
the most expensive mistake this product can make). Text formats vary within a season, so every pattern
is optional: no parse means no evidence, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

_WINNER = re.compile(
    r"^\s*If (?P<yes>.+?) (?:wins|is the result of) the (?P<game>.+?) game"
    r"(?: originally scheduled for (?P<date>[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}))?",
)
"""The winner sentence; :func:`winner_parts` finds the same groups with string searches (tests hold it equal)."""
_WINNER_DATE = re.compile(r" originally scheduled for (?P<date>[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4})")
_WILL = re.compile(r"^\s*Will (?P<yes>.+?) win the (?P<game>.+?) game\b")
_TITLE_WINS = re.compile(r"^(?:.*:\s*)?(?P<yes>[^:]+?) wins\??\s*$")
_GAME_PREFIX = re.compile(r"^(?:Game \d+:\s*)", re.IGNORECASE)
_DESCRIPTOR = re.compile(
    r"\s+(?:professional|pro|college|women's|womens|men's|mens|nfl|nba|nhl|mlb|wnba|mls|ncaa)\b.*$", re.IGNORECASE
)
_SPLIT = re.compile(r"\s+(?:at|vs\.?|@|v)\s+", re.IGNORECASE)
# The team is the text before each match (see ``_team_before``), never a leading ``.*?`` group: that would make
# every search quadratic in the text length.
_BY_LINE = re.compile(
    r"\bwins (?:the [^?]{1,200}? )?by (?P<side>over|more than|at least|under|fewer than|less than) "
    r"(?P<n>\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
_LOSES_BY = re.compile(
    r"\bloses by (?P<side>over|more than|at least|under|fewer than|less than) (?P<n>\d+(?:\.\d+)?)", re.IGNORECASE
)
_SIGNED_LINE = re.compile(r"(?<=\s)\(?(?P<sign>[+-])(?P<n>\d+(?:\.\d+)?)\b")
_LEAD = re.compile(r"^\s*(?:If|Will)\s+", re.IGNORECASE)
_TOTAL_LINE = re.compile(
    r"\b(?P<side>over|more than|under|fewer than|less than) (?P<n>\d+(?:\.\d+)?) "
    r"(?:total )?(?:points|runs|goals)\b",
    re.IGNORECASE,
)
_OVER_WORDS = {"over", "more than", "at least"}
_TITLE_SCORER = re.compile(
    r"^\s*(?P<who>[^:?]+?)\s*:\s*(?:total\s+)?(?:over|under|more than|fewer than|less than)\b", re.I
)
_RULES_SCORER = re.compile(
    r"^\s*If (?P<who>.+?) scores? (?:over|more than|at least|under|fewer than|less than)\b", re.I
)
_PERIOD = re.compile(
    r"\b(?:1st|2nd|3rd|4th|first|second|third|fourth)(?: \d+)? (?:half|quarter|period|innings?)"
    r"|\b(?:Q[1-4]|[1-4]Q|[12]H|H[12]|F5)\b",
    re.I,
)
_PERIOD_HINT = re.compile(r"half|quarter|period|inning|q|1h|2h|h1|h2|f5")
"""Any of these substrings of the lower-cased text before the full ``_PERIOD`` pattern (see :func:`period_hint`)."""
_REGULATION = re.compile(r"\bregulation\b", re.IGNORECASE)


class WinnerText(NamedTuple):
    """Parsed ``If <yes> wins the <first> vs|at <second> ... game originally scheduled for <date>``.

    A named tuple, immutable like a frozen dataclass and several times cheaper to build: a mapping pass
    parses one per market.
    """

    yes: str
    first: str | None
    second: str | None
    day: date | None
    source: str


@dataclass(frozen=True, slots=True)
class LineText:
    """A line read from text: ``over`` is True when YES is the over/"wins by more than" side."""

    team: str | None
    over: bool
    value: Decimal
    source: str


def winner_parts(rules: str) -> tuple[str, str, str | None] | None:
    """``(yes, game, date)`` as ``_WINNER.match(rules)`` captures them, or None where it does not match.

    The same leftmost-shortest reading with ``str.find`` instead of a lazy regex scan, which steps through
    the text a character at a time (a pass reads every market's rules): YES runs to the first connector
    (``wins the``, ``is the result of the``) of the first line, the game to the first `` game`` after it,
    both at least one character long.
    """
    if rules.startswith("If "):
        yes_at = 3
    else:
        start = len(rules) - len(rules.lstrip())  # ``\s*``: str whitespace is the regex's ``\s``
        if not rules.startswith("If ", start):
            return None
        yes_at = start + 3
    end = rules.find("\n", yes_at)
    if end < 0:
        end = len(rules)
    cut = rules.find(" wins the ", yes_at + 1, end)
    game_at = cut + 10
    # The other connector counts only where it starts first (the two never overlap).
    other = rules.find(" is the result of the ", yes_at + 1, end if cut < 0 else cut + 21)
    if other >= 0:
        cut, game_at = other, other + 22
    elif cut < 0:
        return None
    # A later connector only starts the game later, so it cannot find a " game" this one does not.
    game_end = rules.find(" game", game_at + 1, end)
    if game_end < 0:
        return None
    date = _WINNER_DATE.match(rules, game_end + 5)
    return rules[yes_at:cut], rules[game_at:game_end], date["date"] if date is not None else None


def period_hint(text: str) -> bool:
    """``_PERIOD_HINT.search(text.lower()) is not None``, as substring tests (each one C-level scan)."""
    low = text.lower()
    return (
        "q" in low
        or "half" in low
        or "period" in low
        or "inning" in low
        or "1h" in low
        or "2h" in low
        or "h1" in low
        or "h2" in low
        or "f5" in low
    )


def without_descriptor(body: str) -> str:
    """``_DESCRIPTOR.sub("", body)``: on one line the first match runs to the end, so it is a cut there."""
    if "\n" in body:
        return _DESCRIPTOR.sub("", body)
    m = _DESCRIPTOR.search(body)
    return body if m is None else body[: m.start()]


@lru_cache(maxsize=16384)
def _game_teams(game: str) -> tuple[str | None, str | None]:
    body = without_descriptor(_GAME_PREFIX.sub("", game.strip()))
    parts = _SPLIT.split(body, maxsplit=1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None, None
    return parts[0].strip(), parts[1].strip()


_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_DATE = re.compile(r"^(?P<mon>[A-Za-z]{3})[a-z]*\.? (?P<d>\d{1,2}), (?P<y>\d{4})$")


_SCHEDULED = re.compile(r"originally scheduled for (?P<date>[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4})")
_SCHEDULED_FOR = "originally scheduled for "
"""Where every match of ``_SCHEDULED`` starts."""


_SCHEDULED_AT = re.compile(
    r"originally scheduled for (?P<date>[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}) at (?P<h>\d{1,2}):(?P<m>\d{2}) ?"
    r"(?P<ampm>[AP]M) (?P<zone>[ECMP][SD]T)\b"
)
_US_ZONES = {
    f"{z}{kind}T": timezone(timedelta(hours=base + (1 if kind == "D" else 0)), f"{z}{kind}T")
    for z, base in (("E", -5), ("C", -6), ("M", -7), ("P", -8))
    for kind in "SD"
}
"""The zone abbreviations US rules texts print: ``EDT`` is UTC-4, ``EST`` UTC-5, and so on west."""


@lru_cache(maxsize=16384)
def scheduled_start(rules: str) -> datetime | None:
    """The start in ``... originally scheduled for Sep 26, 2026 at 8:40 PM EDT`` (MLB rules print it), as an
    aware time; None when the text gives no time or an impossible one."""
    return _start_at(_SCHEDULED_AT.search(rules))


def _start_at(m: re.Match[str] | None) -> datetime | None:
    day = _date(m["date"]) if m is not None else None
    if m is None or day is None:
        return None
    hour, minute = int(m["h"]), int(m["m"])
    if not 1 <= hour <= 12 or minute > 59:
        return None
    hour = hour % 12 + (12 if m["ampm"] == "PM" else 0)
    return datetime.combine(day, time(hour, minute), _US_ZONES[m["zone"]])


@lru_cache(maxsize=16384)
def scheduled_day(rules: str) -> date | None:
    """The date in ``... originally scheduled for Nov 27, 2025`` (winner, spread and total rules alike)."""
    m = scheduled_match(rules)
    return _date(m["date"]) if m is not None else None


def scheduled_match(rules: str) -> re.Match[str] | None:
    """``_SCHEDULED.search(rules)``: each occurrence of the phrase found with ``str.find``, the date matched there."""
    at = rules.find(_SCHEDULED_FOR)
    while at >= 0:
        m = _SCHEDULED.match(rules, at)
        if m is not None:
            return m
        at = rules.find(_SCHEDULED_FOR, at + 1)
    return None


@lru_cache(maxsize=4096)
def _date(text: str | None) -> date | None:
    """``Nov 27, 2025`` or ``November 27, 2025``; None for anything else."""
    m = _DATE.match(text or "")
    month = _MONTHS.get(m["mon"].lower()) if m else None
    if m is None or month is None:
        return None
    try:
        return date(int(m["y"]), month, int(m["d"]))
    except ValueError:
        return None


@lru_cache(maxsize=16384)
def winner_text(rules: str, title: str) -> WinnerText | None:
    """The YES team and the game as the market's rules (preferred) or title state them."""
    return _winner_text(rules, title)


def _winner_text(rules: str, title: str) -> WinnerText | None:
    parts = winner_parts(rules)
    if parts is not None:
        yes, game, day = parts
        first, second = _game_teams(game)
        return WinnerText(yes.strip(), first, second, _date(day), "rules_primary")
    m = _WILL.match(title)
    if m is not None:
        first, second = _game_teams(m["game"])
        return WinnerText(m["yes"].strip(), first, second, None, "title")
    m = _TITLE_WINS.match(title)
    if m is not None:
        return WinnerText(m["yes"].strip(), None, None, None, "title")
    return None


def _decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def _team_before(text: str, end: int) -> str | None:
    """The words before a line, from the last ``:`` or ``?`` (``PHI Eagles`` in ``Q: PHI Eagles wins by ...``)."""
    head = re.split(r"[?:]", text[:end])[-1]
    return _LEAD.sub("", head).strip() or None


def spread_lines(rules: str, title: str) -> tuple[LineText, ...]:
    """Every line the title and the rules state (one per source), each a separate witness.

    ``PHI Eagles wins by over 7.5 points`` (title) and ``If X wins the A vs B ... game by over 7.5 points``
    (rules). ``X loses by ...`` and a signed line (``X +2.5``) are read too: a loss or a plus line is never the
    "wins by more than" side (``over`` False), and ``X -2.5`` is that side at 2.5, so either can contradict the
    strike.
    """
    out: list[LineText] = []
    for source, text in (("title", title), ("rules_primary", rules)):
        for pattern in (_BY_LINE, _LOSES_BY, _SIGNED_LINE):
            m = pattern.search(text)
            value = _decimal(m["n"]) if m is not None else None
            if m is None or value is None:
                continue
            team = _team_before(text, m.start())
            if pattern is _BY_LINE:
                over = m["side"].lower() in _OVER_WORDS
            else:
                over = pattern is _SIGNED_LINE and m["sign"] == "-"
            out.append(LineText(team, over, value, source))
            break
    return tuple(out)


def spread_text(rules: str, title: str) -> LineText | None:
    """The first of :func:`spread_lines` (the title's when it states one)."""
    lines = spread_lines(rules, title)
    return lines[0] if lines else None


def total_lines(rules: str, title: str) -> tuple[LineText, ...]:
    """``Full Game: over 65.5 points scored?`` from the title and the rules, one per source that states a line."""
    out: list[LineText] = []
    for source, text in (("title", title), ("rules_primary", rules)):
        m = _TOTAL_LINE.search(text)
        value = _decimal(m["n"]) if m is not None else None
        if m is not None and value is not None:
            out.append(LineText(None, m["side"].lower() in _OVER_WORDS, value, source))
    return tuple(out)


def total_text(rules: str, title: str) -> LineText | None:
    """The first of :func:`total_lines` (the title's when it states one)."""
    lines = total_lines(rules, title)
    return lines[0] if lines else None


@lru_cache(maxsize=16384)
def is_period(text: str) -> bool:
    """A half/quarter/period market; a substring scan (``_PERIOD_HINT``) keeps the full pattern off the common path."""
    return _is_period(text)


def _is_period(text: str) -> bool:
    return period_hint(text) and _PERIOD.search(text) is not None


@lru_cache(maxsize=16384)
def is_regulation(title: str) -> bool:
    """A regulation-time market (no overtime), which the Odds API full-game markets are not.

    Memoised (titles repeat: ``Baltimore wins`` for every game of the team). An ASCII title without the
    letters ``regulation`` in any case cannot match, and costs a lower-casing instead of a case-blind scan.
    """
    if title.isascii() and "regulation" not in title.lower():
        return False
    return _REGULATION.search(title) is not None


class MarketText(NamedTuple):
    """Everything the resolver reads from one market's rules and title, parsed in one call per market.

    A cold mapping pass meets each text once, so one memo entry per market (rather than one per question
    asked of it) is what keeps the first pass cheap; a re-mapping pass finds the whole answer in one lookup.
    """

    winner: WinnerText | None
    """:func:`winner_text`."""
    period: bool
    """:func:`is_period` of the title or of the rules."""
    regulation: bool
    """:func:`is_regulation` of the title."""
    day: date | None
    """:func:`scheduled_day` of the rules."""
    start: datetime | None
    """:func:`scheduled_start` of the rules."""


@lru_cache(maxsize=32768)
def market_text(rules: str, title: str) -> MarketText:
    """The :class:`MarketText` of a market (memoised; equal to asking each function separately)."""
    scheduled = scheduled_match(rules)
    day: date | None = None
    start: datetime | None = None
    if scheduled is not None:  # a start needs the same phrase, at this position or a later one
        day = _date(scheduled["date"])
        start = _start_at(_SCHEDULED_AT.search(rules, scheduled.start()))
    period = is_period(title) or _is_period(rules)
    return MarketText(_winner_text(rules, title), period, is_regulation(title), day, start)


def team_total(rules: str, title: str) -> str | None:
    """Who a total is about when the text puts a name before the line (``Houston: over 23.5``, ``If Houston
    scores over 23.5``); the caller decides whether that name is a team (a team total) or a scope (``Full Game``).
    """
    for pattern, text in ((_TITLE_SCORER, title), (_RULES_SCORER, rules)):
        m = pattern.match(text)
        if m is not None:
            return m["who"].strip()
    return None
