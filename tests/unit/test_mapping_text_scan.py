"""The string-search readers of market text equal the regular expressions they replace, on generated texts.

``winner_parts``, ``scheduled_match``, ``period_hint`` and ``without_descriptor`` are the fast forms the
mapping pass uses; the patterns in ``engine.mapping.rules`` stay the specification. Texts are built from the
fragments those patterns look for (connectors, `` game``, dates, newlines, odd whitespace, case changes), so
the generator reaches the corners where a shortcut could differ: a connector without a game, two
connectors, a newline between them, a game word inside a team name, a date that does not parse.
"""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.mapping import rules

_FRAGMENTS = [
    "If ", "If", " If ", "\tIf ", "\u00a0", "\n", " ", "  ", "Will ", "X", "Baltimore", "Ravens", "New York",
    " wins the ", " wins", " is the result of the ", " is the result of", " wins the wins the ", " game",
    " game ", "game", " games", " Game 3: ", " vs ", " at ", " @ ", " v ", " professional football", " Pro",
    " NCAA", " women's", " originally scheduled for ", "originally scheduled for ", "Oct 1, 2026", "Sept. 12, 2025",
    "oct 1, 2026", "Octobers 1, 2026", " at 8:40 PM EDT", ", then the market resolves to Yes.", "1st Half",
    "Q1", "h2", "F5", "quarter", "Period", "INNING", "İ", "K", "\u212a", "1H", "2h", "half",
]  # fmt: skip
_TEXTS = st.lists(st.sampled_from(_FRAGMENTS), max_size=14).map("".join) | st.text(max_size=40)


def _groups(m: re.Match[str] | None) -> tuple[str, str, str | None] | None:
    return None if m is None else (m["yes"], m["game"], m["date"])


@settings(max_examples=3000, deadline=None)
@given(_TEXTS)
@example("If A wins the B vs C game originally scheduled for Oct 1, 2026")
@example("If A is the result of the wins the B game")
@example("If A wins the\nB game")
@example("If A wins the B\ngame x game")
@example("  If  wins the  game")
@example("If A wins the  game game")
def test_winner_parts_is_the_winner_pattern(text: str) -> None:
    assert rules.winner_parts(text) == _groups(rules._WINNER.match(text))


@settings(max_examples=2000, deadline=None)
@given(_TEXTS)
@example("originally scheduled for Octobers 1, 2026 originally scheduled for Oct 2, 2026")
def test_scheduled_match_is_the_scheduled_search(text: str) -> None:
    fast, slow = rules.scheduled_match(text), rules._SCHEDULED.search(text)
    assert (fast and (fast.span(), fast["date"])) == (slow and (slow.span(), slow["date"]))


@settings(max_examples=2000, deadline=None)
@given(_TEXTS)
def test_period_hint_is_the_hint_pattern(text: str) -> None:
    assert rules.period_hint(text) == (rules._PERIOD_HINT.search(text.lower()) is not None)


@settings(max_examples=2000, deadline=None)
@given(_TEXTS)
@example("Miami at Ohio St. College Football")
@example("A at B professional\nfootball pro game")
def test_without_descriptor_is_the_descriptor_substitution(text: str) -> None:
    assert rules.without_descriptor(text) == rules._DESCRIPTOR.sub("", text)
