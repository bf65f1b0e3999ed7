"""Batch fuzzy name scoring with rapidfuzz, for college teams and any name not in a team table.

One ``process.cdist`` call scores every Kalshi-side name against every Odds API name of a league, so the
cost is one vectorised matrix rather than a Python loop over pairs. ``token_set_ratio`` scores a school
name against ``school + mascot`` at 100, which also means ``Miami`` scores 100 against both ``Miami
Hurricanes`` and ``Miami (OH) RedHawks``: callers must treat near-equal best scores as ambiguity.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from engine.mapping.names import fold

MATCH = 90.0
"""Minimum score for a fuzzy name match."""
MARGIN = 8.0
"""The best candidate must beat the runner-up by this much, otherwise the names are ambiguous."""

_EXPAND = {"st": "state", "u": "university", "univ": "university"}
_QUALIFIERS = frozenset(
    [
        "state",
        "tech",
        "a",
        "and",
        "am",
        "christian",
        "international",
        "southern",
        "northern",
        "eastern",
        "western",
        "central",
        "poly",
        "methodist",
        "atlantic",
        "baptist",
        "oh",
        "fl",
        "ohio",
        "florida",
        "city",
        "college",
        "university",
        "valley",
        "upstate",
        "kentucky",
        "carolina",
        "miss",
        "illinois",
        "indiana",
        "utah",
        "pine",
        "gulf",
        "fort",
        "mercy",
        "cc",
        "corpus",
        "commerce",
    ]
)
SUBSET_CAP = 70.0
"""Score given to a name that is only a token subset of another without being its leading school name."""


@lru_cache(maxsize=65536)
def college_form(name: str) -> str:
    """Fold and expand abbreviations Kalshi uses in college names (``North Dakota St.`` -> ``north dakota state``).

    A leading ``st`` is left alone (``St. John's``), only a trailing or inner one means *State*.
    """
    tokens = fold(name).split()
    out = [tok if i == 0 else _EXPAND.get(tok, tok) for i, tok in enumerate(tokens)]
    return " ".join(out)


class FuzzyScores:
    """Scores between query names and choice names, computed in one batch and looked up by name.

    Scores under ``MATCH`` are stored as 0 (``score_cutoff`` lets rapidfuzz stop early): only names that can
    match are ever compared further.
    """

    __slots__ = ("_choice_names", "_choices", "_matrix", "_queries")

    def __init__(self, queries: Iterable[str], choices: Iterable[str]) -> None:
        self._queries = {q: i for i, q in enumerate(dict.fromkeys(college_form(q) for q in queries))}
        self._choices = {c: i for i, c in enumerate(dict.fromkeys(college_form(c) for c in choices))}
        self._choice_names = list(self._choices)
        self._matrix: NDArray[np.float32] | None = None
        if self._queries and self._choices:
            self._matrix = process.cdist(
                list(self._queries), list(self._choices), scorer=fuzz.token_set_ratio, score_cutoff=MATCH, workers=1
            )

    def above(self, query: str, threshold: float) -> list[str]:
        """Choice names (in ``college_form``) whose raw batch score against ``query`` reaches ``threshold``."""
        qi = self._queries.get(college_form(query))
        if self._matrix is None or qi is None:
            return []
        hits = np.nonzero(self._matrix[qi] >= threshold)[0]
        return [self._choice_names[int(i)] for i in hits]

    def score(self, query: str, choice: str) -> float:
        if self._matrix is None:
            return 0.0
        q, c = college_form(query), college_form(choice)
        qi = self._queries.get(q)
        ci = self._choices.get(c)
        if qi is None or ci is None:
            return 0.0
        value = float(self._matrix[qi, ci])
        if value >= MATCH and not school_prefix(q, c):
            return min(value, SUBSET_CAP)
        return value


def school_prefix(query: str, choice: str) -> bool:
    """True unless one name is merely contained in the other (``texas`` in ``north texas mean green``) or
    extends it with a qualifier that names another school (``texas`` -> ``texas state bobcats``).

    Names equal as token sets pass; otherwise the shorter must be the leading tokens of the longer and the
    next token must not be a school qualifier (``state``, ``tech``, ``a and m``, ``oh``...).
    """
    qt, ct = query.split(), choice.split()
    if set(qt) == set(ct):
        return True
    short, long_ = (qt, ct) if len(qt) <= len(ct) else (ct, qt)
    if long_[: len(short)] != short:
        return not (set(short) <= set(long_))
    return long_[len(short)] not in _QUALIFIERS
