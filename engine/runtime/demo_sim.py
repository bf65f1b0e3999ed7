"""The embedded demo's simulator on its own thread and event loop, in the engine's process.

At 2,000 markets a simulator step serialises tens of thousands of WebSocket messages; on the engine's loop
that work delayed every engine timer by up to a second or two. On a thread of its own it shares only the
GIL with the engine (released while either waits on a socket), so the engine's loop lag is the engine's.
The demo still needs no second process: one ``launch`` is one PID to stop, and the simulator goes with it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from engine.sim import SimConfig, Simulator, start_simulator

T = TypeVar("T")
START_TIMEOUT_S = 120.0
"""Building a large board (credentials, the board, both servers, the first prices) takes seconds."""
STOP_TIMEOUT_S = 30.0


class SimulatorThread:
    """``await SimulatorThread.start(config, step_s)`` -> a running, auto-stepping simulator whose loop runs
    on a daemon thread; ``await close()`` stops it there and joins the thread. Read ``sim`` for its URLs and
    credentials (plain values, set before ``start`` returns); touch its state only through :meth:`call`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, thread: threading.Thread, sim: Simulator) -> None:
        self._loop = loop
        self._thread = thread
        self.sim = sim
        self._closed = False

    @classmethod
    async def start(cls, config: SimConfig, step_s: float) -> SimulatorThread:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=_serve, args=(loop,), name="arbtui-demo-simulator", daemon=True)
        thread.start()

        async def boot() -> Simulator:
            sim = await start_simulator(config)
            sim.start_autostep(step_s)
            return sim

        try:
            sim = await _wait(asyncio.run_coroutine_threadsafe(boot(), loop), START_TIMEOUT_S)
        except BaseException:
            _stop_loop(loop, thread)
            raise
        return cls(loop, thread, sim)

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the simulator's loop (faults, a manual step) and wait for it without blocking ours."""
        return await _wait(asyncio.run_coroutine_threadsafe(coro, self._loop), STOP_TIMEOUT_S)

    async def close(self) -> None:
        """Stop stepping, close the simulator's servers on its own loop, then end the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await self.call(self.sim.close())
        finally:
            await asyncio.to_thread(_stop_loop, self._loop, self._thread)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(loop.stop)
    thread.join(STOP_TIMEOUT_S)


async def _wait(future: Future[T], timeout_s: float) -> T:
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
    except TimeoutError:
        future.cancel()
        raise TimeoutError(f"the demo simulator did not answer within {timeout_s:.0f} s") from None
