"""The ``sim`` fixture: a started simulator (seed 1) on free 127.0.0.1 ports, closed after the test.

``sim_headers`` signs a request the way Kalshi expects, straight with ``cryptography`` (no client code),
for the simulator's own tests.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.sim import SimConfig, Simulator, run_simulator
from engine.sim.auth import sign

SignHeaders = Callable[[str, str], dict[str, str]]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with run_simulator(SimConfig(seed=1)) as simulator:
        yield simulator


@pytest.fixture
def sim_headers(sim: Simulator) -> SignHeaders:
    """``sim_headers("GET", url)`` -> the three KALSHI-ACCESS-* headers for that request, signed now."""
    key = serialization.load_pem_private_key(sim.private_key_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)

    def headers(method: str, url: str) -> dict[str, str]:
        stamp = str(int(time.time() * 1000))
        return {
            "KALSHI-ACCESS-KEY": sim.key_id,
            "KALSHI-ACCESS-TIMESTAMP": stamp,
            "KALSHI-ACCESS-SIGNATURE": sign(key, stamp, method, httpx.URL(url).path),
        }

    return headers
