"""Run the dashboard until the operator quits or the process is told to stop (SIGTERM sets ``stop``).

``launch`` calls this in place of waiting headless; the caller then stops the engine exactly as
``--no-ui`` does on SIGTERM (no new orders, the order in flight resolved, the store flushed).
"""

from __future__ import annotations

import asyncio
import contextlib

from arbtui.app.app import build_app
from engine.runtime.control_api import EngineControl


async def run_dashboard(control: EngineControl, stop: asyncio.Event, *, owns_engine: bool = True) -> int:
    app = build_app(control, owns_engine=owns_engine)

    async def stop_when_asked() -> None:
        await stop.wait()
        app.exit(0)

    watcher = asyncio.create_task(stop_when_asked())
    try:
        await app.run_async()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    return app.return_code or 0
