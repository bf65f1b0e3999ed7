"""Name normalisation shared by the team tables and the resolver.

Kalshi writes ``St. Louis`` and ``Montreal``; the Odds API writes ``St Louis Blues`` and ``Montréal Canadiens``.
Comparing a folded form (no accents, no punctuation, ``&`` as ``and``, single spaces, lower case) keeps those
cosmetic differences from ever deciding a match.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def fold(name: str) -> str:
    """``"Montréal Canadiens"`` -> ``"montreal canadiens"``; ``"Miami (OH)"`` -> ``"miami oh"``.

    An ASCII name is its own NFKD form without combining marks, so only other names are decomposed.
    """
    if name.isascii():
        ascii_only = name
    else:
        decomposed = unicodedata.normalize("NFKD", name)
        ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    lowered = ascii_only.lower().replace("&", " and ").replace("'", "")
    return _SPACES.sub(" ", _NON_WORD.sub(" ", lowered)).strip()
