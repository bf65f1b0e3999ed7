"""Trading profiles: how much edge, how many agreeing books and how much Kelly an operator accepts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from engine.errors import ConfigError
from engine.pricing.vig import VigMethod

DEFAULT_BOOKS: tuple[str, ...] = ("draftkings", "fanduel", "betmgm", "williamhill_us")


class ProfileName(StrEnum):
    CONSERVATIVE = "CONSERVATIVE"
    STANDARD = "STANDARD"
    AGGRESSIVE = "AGGRESSIVE"
    VERY_AGGRESSIVE = "VERY_AGGRESSIVE"
    CUSTOM = "CUSTOM"


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    min_edge: Decimal  # dollars per contract after fees
    book_consensus: int  # fresh books required, and books that must each see the edge
    kelly_fraction: Decimal
    max_quote_age_s: int
    books: tuple[str, ...] = DEFAULT_BOOKS
    vig_method: VigMethod = VigMethod.POWER
    # An edge or margin above this is far likelier a mapping or data error than a gift: held, never traded.
    max_edge: Decimal = Decimal("0.15")

    def __post_init__(self) -> None:
        if self.min_edge < 0:
            raise ConfigError(f"profile {self.name}: min_edge must be >= 0, got {self.min_edge}")
        if not self.books:
            raise ConfigError(f"profile {self.name}: books must name at least one sportsbook")
        if not 1 <= self.book_consensus <= len(self.books):
            raise ConfigError(
                f"profile {self.name}: book_consensus must be between 1 and {len(self.books)} "
                f"(the number of books), got {self.book_consensus}"
            )
        if not Decimal(0) < self.kelly_fraction <= Decimal(1):
            raise ConfigError(f"profile {self.name}: kelly_fraction must be in (0, 1], got {self.kelly_fraction}")
        if self.max_quote_age_s <= 0:
            raise ConfigError(f"profile {self.name}: max_quote_age_s must be > 0, got {self.max_quote_age_s}")


PROFILES: dict[ProfileName, Profile] = {
    ProfileName.CONSERVATIVE: Profile("CONSERVATIVE", Decimal("0.06"), 4, Decimal("0.15"), 60),
    ProfileName.STANDARD: Profile("STANDARD", Decimal("0.05"), 3, Decimal("0.25"), 120),
    ProfileName.AGGRESSIVE: Profile("AGGRESSIVE", Decimal("0.03"), 3, Decimal("0.35"), 180),
    ProfileName.VERY_AGGRESSIVE: Profile("VERY_AGGRESSIVE", Decimal("0.02"), 2, Decimal("0.50"), 300),
}


OVERRIDABLE = ("min_edge", "book_consensus", "kelly_fraction", "max_quote_age_s", "books", "vig_method", "max_edge")
"""Profile fields an operator may override, each with a ``PROFILE_<FIELD>`` setting."""


@dataclass(frozen=True, slots=True)
class ProfileOverrides:
    """Operator overrides layered on a named profile (CUSTOM starts from STANDARD)."""

    min_edge: Decimal | None = None
    book_consensus: int | None = None
    kelly_fraction: Decimal | None = None
    max_quote_age_s: int | None = None
    books: tuple[str, ...] | None = None
    vig_method: VigMethod | None = None
    max_edge: Decimal | None = None


def profile_name(name: ProfileName | str) -> ProfileName:
    """``"standard"`` -> ``ProfileName.STANDARD``; an unknown name is a :class:`ConfigError` listing the known."""
    try:
        return ProfileName(str(name).upper())
    except ValueError:
        known = ", ".join(p.value for p in ProfileName)
        raise ConfigError(f"unknown trading profile {name!r}; choose one of {known}") from None


def build_profile(name: ProfileName | str, overrides: ProfileOverrides | None = None) -> Profile:
    """The named profile with any overrides applied; an unknown name is a :class:`ConfigError`."""
    key = profile_name(name)
    base = PROFILES.get(key, PROFILES[ProfileName.STANDARD])
    changes: dict[str, object] = {"name": key.value}
    if overrides is not None:
        for field in OVERRIDABLE:
            value = getattr(overrides, field)
            if value is not None:
                changes[field] = value
    return replace(base, **changes)  # type: ignore[arg-type]
