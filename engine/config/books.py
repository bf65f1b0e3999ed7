"""The sportsbook keys ``PROFILE_BOOKS`` may name, and the parser that refuses anything else.

A misspelt book (``draftking``) or an invented one (``foo``) is never quoted by The Odds API, so a profile
naming it would silently need consensus from books that cannot exist; refusing it at start-up is the only
safe answer. The keys are The Odds API's ``bookmakers`` keys (the value of ``bookmakers[].key`` in an
``/odds`` response) for the US, UK, EU and AU regions.
"""

from __future__ import annotations

US_BOOKS: frozenset[str] = frozenset(
    {
        "ballybet",
        "betanysports",
        "betmgm",
        "betonlineag",
        "betparx",
        "betrivers",
        "betus",
        "bovada",
        "draftkings",
        "espnbet",
        "fanatics",
        "fanduel",
        "fliff",
        "hardrockbet",
        "lowvig",
        "mybookieag",
        "williamhill_us",
        "windcreek",
    }
)
"""Regions ``us`` and ``us2``; Caesars is ``williamhill_us``."""

OTHER_BOOKS: frozenset[str] = frozenset(
    {
        "betclic",
        "betfair_ex_au",
        "betfair_ex_eu",
        "betfair_ex_uk",
        "betfair_sb_uk",
        "betsson",
        "betvictor",
        "betway",
        "boylesports",
        "coolbet",
        "everygame",
        "ladbrokes_au",
        "ladbrokes_uk",
        "leovegas",
        "marathonbet",
        "matchbook",
        "neds",
        "nordicbet",
        "onexbet",
        "paddypower",
        "pinnacle",
        "pointsbetau",
        "skybet",
        "sport888",
        "sportsbet",
        "tab",
        "unibet_eu",
        "unibet_uk",
        "williamhill",
    }
)
"""Regions ``uk``, ``eu`` and ``au``: useful as sharp references (``pinnacle``, the exchanges)."""

KNOWN_BOOKS: frozenset[str] = US_BOOKS | OTHER_BOOKS


def parse_books(text: str) -> tuple[str, ...]:
    """``"draftkings, FanDuel"`` -> ``("draftkings", "fanduel")``; a ``ValueError`` names what is wrong.

    Order is kept (it is the order books are listed in output); a book named twice would count twice
    towards consensus, so it is refused like an unknown one.
    """
    books = tuple(part.strip().lower() for part in text.split(","))
    if not any(books):
        raise ValueError("names no sportsbook; give comma-separated Odds API bookmaker keys")
    if "" in books:
        raise ValueError(f"has an empty entry in {text!r}")
    unknown = [b for b in books if b not in KNOWN_BOOKS]
    if unknown:
        raise ValueError(
            f"unknown sportsbook {', '.join(unknown)}; use Odds API bookmaker keys such as "
            "draftkings, fanduel, betmgm, williamhill_us (Caesars), pinnacle"
        )
    repeated = sorted({b for b in books if books.count(b) > 1})
    if repeated:
        raise ValueError(f"names {', '.join(repeated)} more than once")
    return books
