"""Offline detection over one snapshot: map, then detect, at the snapshot's own ``as_of``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.config.profiles import Profile
from engine.detection.detector import DetectionContext, DetectionResult, detect
from engine.errors import PayloadError
from engine.mapping.overrides import Overrides
from engine.mapping.resolver import resolve, winner_groups
from engine.mapping.types import MappingResult, Unmatched
from engine.markets.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class ScanReport:
    as_of: datetime
    profile: Profile
    bankroll: Decimal
    mapping: MappingResult
    result: DetectionResult
    errors: tuple[PayloadError, ...]

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
        }


def scan(
    snapshot: Snapshot,
    profile: Profile,
    bankroll: Decimal,
    max_position: int,
    overrides: Overrides | None = None,
) -> ScanReport:
    mapping = resolve(snapshot.markets, snapshot.odds, overrides=overrides)
    ctx = DetectionContext(profile, bankroll, max_position, snapshot.series)
    result = detect(
        snapshot.markets,
        snapshot.orderbooks,
        snapshot.odds,
        mapping,
        ctx,
        snapshot.as_of,
        winner_groups(snapshot.markets),
    )
    return ScanReport(snapshot.as_of, profile, bankroll, mapping, result, snapshot.errors)
