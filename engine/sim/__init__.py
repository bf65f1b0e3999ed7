"""A Kalshi- and Odds-API-compatible simulator over real sockets on 127.0.0.1, for tests and demos.

``async with run_simulator(SimConfig(seed=1)) as sim:`` starts both servers on free ports; see
:class:`engine.sim.server.Simulator` for what the handle exposes.
"""

from __future__ import annotations

from engine.sim.config import SimConfig
from engine.sim.server import Simulator, run_simulator, start_simulator
from engine.sim.snapshot import dump_snapshot

__all__ = ["SimConfig", "Simulator", "dump_snapshot", "run_simulator", "start_simulator"]
