"""The state both venue servers share: config, clock, faults, credentials, rate buckets and the exchange."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from engine.clock import SYSTEM_CLOCK
from engine.sim.auth import Credentials
from engine.sim.config import SimConfig
from engine.sim.exchange import Exchange
from engine.sim.faults import Faults
from engine.sim.ratelimit import TokenBucket


@dataclass(slots=True)
class SimContext:
    config: SimConfig
    exchange: Exchange
    faults: Faults
    credentials: Credentials
    read_bucket: TokenBucket
    write_bucket: TokenBucket
    clock: Callable[[], datetime] = field(default=SYSTEM_CLOCK.now)
    monotonic: Callable[[], float] = field(default=time.monotonic)

    def now(self) -> datetime:
        return self.clock()

    def now_ms(self) -> int:
        return int(self.clock().timestamp() * 1000)


CTX: web.AppKey[SimContext] = web.AppKey("sim_context", SimContext)
