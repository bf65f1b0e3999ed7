"""Offline detection over one snapshot: map, then detect, at the snapshot's own ``as_of``.

Mapping and detection see the same market and event lists, each record once: a market listed twice would
otherwise be priced twice, each copy sized to the full position limit (see :mod:`engine.markets.dedupe`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.config.profiles import Profile
from engine.detection.detector import DetectionContext, DetectionResult
from engine.detection.fullpass import detect_screened
from engine.errors import PayloadError
from engine.mapping.overrides import Overrides
from engine.mapping.resolver import resolve, winner_groups
from engine.mapping.types import MappingResult, Unmatched
from engine.markets.dedupe import unique_markets, unique_odds_events
from engine.markets.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class ScanReport:
    as_of: datetime
    profile: Profile
    bankroll: Decimal
    mapping: MappingResult
    result: DetectionResult
    errors: tuple[PayloadError, ...]
    notes: tuple[str, ...] = ()
    """Duplicate records merged into one; the refused ones are in ``errors``."""

    @property
    def unmatched(self) -> tuple[Unmatched, ...]:
        return self.mapping.unmatched

    def to_json(self) -> dict[str, Any]:
        unmatched = {u.ticker for u in self.mapping.unmatched}
        return {
            "as_of": self.as_of.isoformat().replace("+00:00", "Z"),
            "profile": self.profile.name,
            "bankroll": str(self.bankroll),
            "signals": [s.to_json() for s in self.result.signals],
            "unmatched": [{"ticker": u.ticker, "reason": u.reason} for u in self.mapping.unmatched],
            "skipped": [s.to_json() for s in self.result.skipped if s.ticker not in unmatched],
            "errors": [str(e) for e in self.errors],
            "notes": list(self.notes),
        }


def scan(
    snapshot: Snapshot,
    profile: Profile,
    bankroll: Decimal,
    max_position: int,
    overrides: Overrides | None = None,
) -> ScanReport:
    markets = unique_markets(snapshot.markets)  # a loaded snapshot is unique already; a built one may not be
    odds = unique_odds_events(snapshot.odds)
    mapping = resolve(markets.items, odds.items, overrides=overrides)
    ctx = DetectionContext(profile, bankroll, max_position, snapshot.series)
    result = detect_screened(  # the exact rules' answer, through the screen (tests hold the two equal)
        markets.items,
        snapshot.orderbooks,
        odds.items,
        mapping,
        ctx,
        snapshot.as_of,
        winner_groups(markets.items),
    )
    errors = (*snapshot.errors, *markets.refused, *odds.refused)
    notes = (*snapshot.notes, *markets.merged, *odds.merged)
    return ScanReport(snapshot.as_of, profile, bankroll, mapping, result, errors, notes)
