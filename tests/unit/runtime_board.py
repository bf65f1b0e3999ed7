"""A simulator board as the engine's inputs (raw series and markets, raw odds, parsed books) at a pinned
instant, taken once per seed, for the runtime unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.clock import PinnedClock
from engine.markets.kalshi import Orderbook
from engine.markets.snapshot import parse_snapshot
from engine.sim import SimConfig, run_simulator

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SimBoard:
    clock: PinnedClock
    series: list[Any]
    markets: list[Any]
    odds: list[Any]
    books: dict[str, Orderbook]


async def sim_board(seed: int = 3) -> SimBoard:
    async with run_simulator(SimConfig(seed=seed), clock=PinnedClock(AT)) as sim:
        doc = sim.snapshot()
    kalshi = doc["kalshi"]
    books = dict(parse_snapshot(doc).orderbooks)
    return SimBoard(PinnedClock(AT), list(kalshi["series"]), list(kalshi["markets"]), list(doc["odds"]), books)
