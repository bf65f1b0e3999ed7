"""The ``sim`` fixture: a started simulator (seed 1) on free 127.0.0.1 ports, closed after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from engine.sim import SimConfig, Simulator, run_simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with run_simulator(SimConfig(seed=1)) as simulator:
        yield simulator
