"""A small, real :class:`~engine.runtime.control_api.EngineControl` for the control socket's tests.

It holds the state the commands change (breaker state and reason, profile, resting orders) and reports it
in the documented status shape, so the protocol, the server, the client and the CLI commands are exercised
end to end without the pipeline. The pipeline's own engine is driven in ``test_launch_control.py``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.config.profiles import profile_name
from engine.runtime.control import ControlServer
from engine.runtime.control_api import StatusSnapshot


@dataclass(frozen=True, slots=True)
class KitSnapshot:
    profile: str
    state: str
    reason: str
    open_orders: int
    exposure: Decimal
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> Mapping[str, Any]:
        doc: dict[str, Any] = {
            "mode": "PAPER",
            "profile": self.profile,
            "breaker": {
                "state": self.state,
                "reason": self.reason,
                "limits": {"daily_loss": {"limit": "100.00", "used": "12.50"}},
            },
            "feeds": {
                "kalshi_ws": {"state": "connected", "age_s": 0.25},
                "odds_api": {"state": "connected", "age_s": 12.0, "credits_left": 480, "credits_spent_today": 20},
            },
            "loop_lag_ms": {"p50": 0.1, "p99": 2.5},
            "markets": {"discovered": 40, "mapped": 36, "subscribed": 36},
            "signals": {"live": 3, "by_kind": {"ev": 2, "arb": 1}},
            "orders": {"open": self.open_orders, "unknown": 0},
            "positions": {"count": 2, "exposure": self.exposure},
            "pnl": {
                "realised": Decimal("1.25"),
                "unrealised": Decimal("-0.40"),
                "fees": Decimal("0.14"),
                "today": Decimal("1.25"),
            },
        }
        doc.update(self.extra)
        return doc


class StateEngine:
    """Commands change the state the next snapshot shows; ``fail_with`` makes the next command raise."""

    def __init__(self) -> None:
        self.profile = "STANDARD"
        self.state = "active"
        self.reason = ""
        self.open_orders = 3
        self.calls: list[str] = []
        self.fail_with: BaseException | None = None
        self.extra: dict[str, Any] = {}
        self.drop_field: str | None = None

    def snapshot(self) -> StatusSnapshot:
        snap = KitSnapshot(self.profile, self.state, self.reason, self.open_orders, Decimal("12.34"), self.extra)
        if self.drop_field is None:
            return snap
        return _Without(snap, self.drop_field)

    async def halt(self, reason: str) -> None:
        self._record(f"halt:{reason}")
        self.state, self.reason = "halted", reason

    async def kill(self, reason: str) -> None:
        self._record(f"kill:{reason}")
        self.state, self.reason, self.open_orders = "halted", f"killed: {reason}", 0

    async def resume(self) -> None:
        self._record("resume")
        self.state, self.reason = "active", ""

    async def set_profile(self, name: str) -> None:
        self._record(f"profile:{name}")
        self.profile = profile_name(name).value

    def _record(self, call: str) -> None:
        self.calls.append(call)
        if self.fail_with is not None:
            exc, self.fail_with = self.fail_with, None
            raise exc


@dataclass(frozen=True, slots=True)
class _Without:
    snap: KitSnapshot
    name: str

    def to_json(self) -> Mapping[str, Any]:
        return {k: v for k, v in self.snap.to_json().items() if k != self.name}


@contextmanager
def served_in_thread(engine: StateEngine, path: Path) -> Iterator[ControlServer]:
    """Serve ``engine`` on ``path`` from an event loop in a background thread, for blocking callers (the
    CLI commands and the synchronous client), and close it on exit."""
    loop = asyncio.new_event_loop()
    server = ControlServer(engine, path)
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.close())

    thread = threading.Thread(target=run, name="control-server", daemon=True)
    thread.start()
    ready.wait(10)
    if failure:
        thread.join()
        loop.close()
        raise failure[0]
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
