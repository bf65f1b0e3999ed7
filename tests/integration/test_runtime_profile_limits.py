"""A profile switch rebuilds the breaker's limits too, audited, and a switch whose limits cannot work is refused.

The engine trades the pinned simulator over loopback. ``CUSTOM`` here is STANDARD with a breaker ``max_edge``
below every edge the simulator shows: detection is unchanged (the same signals stay live), so the only thing
that can hold a signal after the switch is the breaker reading the new profile's limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from engine.config.profiles import Profile, build_profile
from engine.errors import ConfigError
from engine.execution.model import AuditKind, Mode
from engine.runtime.assemble import build_engine
from engine.runtime.cadence import CadencePolicy
from engine.runtime.engine import Engine
from engine.runtime.feeds import FeedSettings, LiveFeeds
from engine.sim import Simulator
from engine.store import open_store
from tests.integration.clientkit import eventually, kalshi_client, kalshi_ws, odds_client
from tests.integration.runtime_kit import sim_settings

pytestmark = pytest.mark.integration

TIGHT = Decimal("0.001")


def profiles(name: str) -> Profile:
    """STANDARD as it ships; CUSTOM with a breaker max_edge nothing passes; AGGRESSIVE with one that cannot work."""
    profile = build_profile(name)
    if profile.name == "CUSTOM":
        return replace(profile, max_edge=TIGHT)
    if profile.name == "AGGRESSIVE":
        return replace(profile, max_edge=Decimal(0))
    return profile


@asynccontextmanager
async def engine_with_profiles(sim: Simulator, tmp_path: Path) -> AsyncIterator[Engine]:
    settings = sim_settings(sim)
    store = await open_store(tmp_path / "engine.db")
    rest = kalshi_client(sim)
    odds = odds_client(sim, daily_credits=200, odds_ttl_s=0.0)
    engine, _ = await build_engine(settings, store, sim.clock, Mode.PAPER, rest=rest, demo=True, profiles=profiles)
    feeds = LiveFeeds(engine, rest, kalshi_ws(sim), odds, FeedSettings(
        bookmakers=engine.pipeline.profile.books, cadence=CadencePolicy(min_interval_s=0.5),
        tick_interval_s=0.2, snapshot_interval_s=0.1, ws_stale_after_s=1.0,
    ))  # fmt: skip
    feeds.start()
    try:
        await eventually(lambda: bool(engine.pipeline.live) and len(engine.pipeline.books) > 10, timeout_s=15)
        yield engine
    finally:
        await feeds.stop(order_timeout_s=2)
        await odds.aclose()
        await rest.aclose()
        await store.close()


async def test_a_profile_with_a_lower_max_edge_holds_a_signal_the_old_profile_let_through(
    sim: Simulator, tmp_path: Path
) -> None:
    async with engine_with_profiles(sim, tmp_path) as engine:
        guard = engine.desk.guard
        assert engine.pipeline.profile.name == "STANDARD" and guard.limits.max_edge == Decimal("0.15")
        key, signal = next(iter(engine.pipeline.live.items()))
        before = await engine.desk.submit(signal, engine.pipeline.first_seen[key])
        assert before.placements
        assert all(p.rule != "sanity" for p in before.placements), [p.detail for p in before.placements]

        await engine.set_profile("CUSTOM")

        assert engine.pipeline.profile.name == "CUSTOM"
        assert guard.limits.max_edge == TIGHT
        await eventually(lambda: bool(engine.pipeline.live), timeout_s=10)
        key, signal = next(iter(engine.pipeline.live.items()))
        after = await engine.desk.submit(signal, engine.pipeline.first_seen[key])
        assert after.placements and {p.rule for p in after.placements} == {"sanity"}
        assert f"> {TIGHT}" in after.placements[0].detail
        held = {p.intent.signal_key for p in after.placements}
        assert held <= guard.state.held.keys()  # held for the operator, not silently dropped

        audit = await engine.desk.manager.store.audit(kinds=(AuditKind.PROFILE,))
        assert audit[-1].data["profile"] == "CUSTOM"
        assert audit[-1].data["overrides"]["risk_limits"]["max_edge"] == {"from": "0.15", "to": str(TIGHT)}


async def test_a_profile_whose_limits_cannot_work_is_refused_and_the_old_one_stays(
    sim: Simulator, tmp_path: Path
) -> None:
    async with engine_with_profiles(sim, tmp_path) as engine:
        limits = engine.desk.guard.limits
        with pytest.raises(ConfigError, match="max_edge must be > 0"):
            await engine.set_profile("AGGRESSIVE")
        assert engine.pipeline.profile.name == "STANDARD"
        assert engine.desk.guard.limits is limits
        assert await engine.desk.manager.store.audit(kinds=(AuditKind.PROFILE,)) == []
