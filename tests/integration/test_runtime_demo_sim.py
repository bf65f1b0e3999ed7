"""The demo's simulator runs on its own thread and loop in this process, serves loopback, and stops cleanly.

What ``launch --demo`` relies on: the simulator's steps happen on a loop that is not the engine's, the
engine's clients reach it over 127.0.0.1 from the engine's loop, and closing it ends its thread.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from engine.errors import ConfigError
from engine.runtime.demo_sim import SimulatorThread
from engine.sim import SimConfig
from tests.integration.clientkit import eventually, kalshi_client

pytestmark = pytest.mark.integration


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


async def test_the_demo_simulator_steps_on_its_own_thread_and_serves_this_loop() -> None:
    running = await SimulatorThread.start(SimConfig(seed=1, markets=48), 0.05)
    try:
        sim = running.sim
        assert running.alive
        assert await running.call(_running_loop()) is not asyncio.get_running_loop()
        await eventually(lambda: sim.scenario.steps >= 3, timeout_s=10)  # stepping with no help from this loop
        rest = kalshi_client(sim)
        try:
            markets = await rest.markets(status="open")
        finally:
            await rest.aclose()
        assert {m.ticker for m in markets} <= set(sim.exchange.markets)
        assert len(markets) >= 2
    finally:
        await running.close()
    assert not running.alive
    assert "arbtui-demo-simulator" not in {t.name for t in threading.enumerate()}
    await running.close()  # idempotent


async def test_a_simulator_that_cannot_start_leaves_no_thread_behind() -> None:
    with pytest.raises(ConfigError, match="not 'cricket'"):
        await SimulatorThread.start(SimConfig(seed=1, markets=48, leagues=("cricket",)), 1.0)
    await eventually(lambda: "arbtui-demo-simulator" not in {t.name for t in threading.enumerate()}, timeout_s=5)
