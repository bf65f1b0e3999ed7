"""Does a market's own text name a side of its game? The second witness the resolver asks before a match.

The ticker decides which team YES is; the rules text and title must then name that team, or at least not the
other one, and must describe this game rather than another (a text naming a third table team is a market of a
different game listed under this ticker). Each check is a pure function of names and sides; the few that a
board asks thousands of times with the same arguments (a team's name recurs over its games and lines) are
memoised on their string arguments.
"""

from __future__ import annotations

from functools import lru_cache

from engine.mapping.games import KalshiSide
from engine.mapping.names import fold
from engine.mapping.rules import WinnerText
from engine.mapping.teams import League, Team, team_index
from engine.mapping.types import Evidence


@lru_cache(maxsize=16384)
def side_of(league: str, code: str, text_name: str | None) -> KalshiSide:
    """The side ``code`` of a ``league`` game whose market text calls it ``text_name`` (memoised: a team plays
    many games, and a side is immutable)."""
    index = team_index(league)
    team: Team | None = index.code(code)
    if team is None and text_name:
        team = index.name(text_name)
    names = (text_name,) if text_name and team is None else ()
    return KalshiSide(code, team, names)


def matches_name(text: str, side: KalshiSide) -> bool:
    """Does ``text`` name ``side``? Table names, ``<CODE> <mascot>`` (``PHI Eagles``), or the side's own text."""
    return _names(text, fold(text), side)


def _names(text: str, folded: str, side: KalshiSide) -> bool:
    """:func:`matches_name` given ``folded`` = ``fold(text)`` (a witness asks it of both sides)."""
    if folded in side.folded:
        return True
    team = side.team
    if team is None:
        return False
    split = _code_and_rest(text)
    return split is not None and split[0] in team.codes and fold(team.odds_name).endswith(split[1])


@lru_cache(maxsize=16384)
def _code_and_rest(text: str) -> tuple[str, str] | None:
    """``PHI Eagles`` -> (``PHI``, ``eagles``): the first word upper-cased and the rest folded; None for one word."""
    head, _, rest = text.strip().partition(" ")
    return (head.upper(), fold(rest)) if rest else None


def _foreign(name: str, league: League, sides: tuple[KalshiSide, KalshiSide]) -> Team | None:
    """The table team ``name`` means when that is neither side of the game (the text is about another game)."""
    if any(matches_name(name, side) for side in sides):
        return None
    team = team_index(league.key).name(name)
    if team is None or any(team is side.team for side in sides):
        return None
    return team


@lru_cache(maxsize=16384)
def _names_evidence(what: str, name: str, code: str) -> Evidence:
    """The witness that a text names the side ``code`` (memoised: a team's name recurs over its games and lines)."""
    return Evidence("rules_text", 1.0, f"{what}: text names {name!r} = {code}")


def witness(name: str | None, this: KalshiSide, other: KalshiSide, what: str, league: League) -> Evidence | str:
    """Evidence that the text names ``this`` side, or the reason it contradicts the ticker."""
    if name is None:
        return Evidence("rules_text", 0.5, f"{what}: text names no team")
    folded = fold(name)
    says_this, says_other = _names(name, folded, this), _names(name, folded, other)
    if says_other and not says_this:
        return f"{what}: text names {name!r} ({other.code}) but the ticker suffix is {this.code}"
    if says_this and not says_other:
        return _names_evidence(what, name, this.code)
    if this.team is None:
        return f"{what}: text names {name!r}, which does not identify {this.code} unambiguously"
    foreign = _foreign(name, league, (this, other))
    if foreign is not None:
        return f"{what}: text names {name!r} ({foreign.odds_name}), a team of neither {this.code} nor {other.code}"
    return Evidence("rules_text", 0.5, f"{what}: text {name!r} not in the team table")


def other_game(text: WinnerText | None, league: League, home: KalshiSide, away: KalshiSide) -> str | None:
    """Why the market text describes a game with a team the ticker does not name; None when it does not."""
    if text is None:
        return None
    for name in (text.first, text.second):
        if not name:
            continue
        folded = fold(name)
        if folded in home.folded or folded in away.folded:
            continue  # it names a side of this game (the common case, without the slower checks)
        foreign = _foreign(name, league, (home, away))
        if foreign is not None:
            return f"rules text game names {name!r} ({foreign.odds_name}), not {away.code} or {home.code}"
    return None
