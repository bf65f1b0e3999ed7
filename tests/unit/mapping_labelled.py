"""Load the labelled mapping set and score a resolver run against it (shared by the tests and the bench)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.mapping.resolver import resolve
from engine.mapping.types import MappingResult
from engine.markets.kalshi import KalshiMarket, parse_market
from engine.markets.odds import OddsEvent, parse_odds_event

LABELLED = Path(__file__).parents[1] / "data" / "mapping_labelled.json"


@dataclass(frozen=True)
class Case:
    market: KalshiMarket
    expect: dict[str, Any] | None
    note: str


def load() -> tuple[list[Case], list[OddsEvent]]:
    doc = json.loads(LABELLED.read_text(encoding="utf-8"))
    cases = [Case(parse_market(c["market"]), c["expect"], c["note"]) for c in doc["cases"]]
    events = [parse_odds_event(e) for e in doc["odds"]]
    return cases, events


@dataclass(frozen=True)
class Score:
    correct: int
    matchable: int
    false_matches: list[str]
    missed: list[str]

    @property
    def recall(self) -> float:
        return self.correct / self.matchable if self.matchable else 1.0


def score(cases: list[Case], result: MappingResult) -> Score:
    reasons = {u.ticker: u.reason for u in result.unmatched}
    correct, false, missed = 0, [], []
    for case in cases:
        got = result.matches.get(case.market.ticker)
        want = case.expect
        if got is None:
            if want is not None:
                missed.append(f"{case.market.ticker}: {reasons.get(case.market.ticker, '?')}")
            continue
        point = None if want is None or want["point"] is None else Decimal(str(want["point"]))
        ok = (
            want is not None
            and got.odds_event_id == want["odds_event_id"]
            and got.market_key.value == want["market_key"]
            and got.outcome == want["outcome"]
            and got.point == point
        )
        if ok:
            correct += 1
        else:
            false.append(f"{case.market.ticker}: got {got.odds_event_id} {got.outcome} {got.point}, want {want}")
    matchable = sum(1 for c in cases if c.expect is not None)
    return Score(correct, matchable, false, missed)


def run() -> Score:
    cases, events = load()
    return score(cases, resolve([c.market for c in cases], events))


if __name__ == "__main__":
    s = run()
    print(f"recall {s.recall:.3f} ({s.correct}/{s.matchable}), false {len(s.false_matches)}")
    for line in s.false_matches:
        print("FALSE", line)
    for line in s.missed:
        print("MISS ", line)
