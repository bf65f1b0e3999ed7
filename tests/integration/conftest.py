"""The ``sim`` fixture: a started simulator (seed 1) on free 127.0.0.1 ports, closed after the test.

The simulator's clock is pinned (``PINNED_AT``, running at real speed from there), so the board is the same
at any hour of any day; clients sign with the same clock. ``wall_sim`` runs on the machine's clock for tests
that drive CLI commands, which sign with the wall clock as they do in production.

``sim_headers`` signs a request the way Kalshi expects, straight with ``cryptography`` (no client code),
for the simulator's own tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.clock import PinnedClock
from engine.sim import SimConfig, Simulator, run_simulator
from engine.sim.auth import sign

SignHeaders = Callable[[str, str], dict[str, str]]
PINNED_AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with run_simulator(SimConfig(seed=1), clock=PinnedClock(PINNED_AT)) as simulator:
        yield simulator


@pytest.fixture
async def wall_sim() -> AsyncIterator[Simulator]:
    async with run_simulator(SimConfig(seed=1)) as simulator:
        yield simulator


@pytest.fixture
def sim_headers(sim: Simulator) -> SignHeaders:
    """``sim_headers("GET", url)`` -> the three KALSHI-ACCESS-* headers for that request, signed now."""
    key = serialization.load_pem_private_key(sim.private_key_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)

    def headers(method: str, url: str) -> dict[str, str]:
        stamp = str(sim.clock.ms())
        return {
            "KALSHI-ACCESS-KEY": sim.key_id,
            "KALSHI-ACCESS-TIMESTAMP": stamp,
            "KALSHI-ACCESS-SIGNATURE": sign(key, stamp, method, httpx.URL(url).path),
        }

    return headers
