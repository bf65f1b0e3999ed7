"""``arbtui attach``: the dashboard on an engine already running headless on this machine.

A server's engine (``arbtui launch --no-ui``, a systemd unit) is watched and controlled from a terminal
without restarting it: the same app ``arbtui launch`` opens, driven through the engine's control socket by
:class:`~engine.runtime.remote.RemoteEngine` instead of in-process. ``h``/``K``/``r``/profile keys act on
that engine; ``q`` closes only the viewer, and the engine keeps trading.

Textual is imported only once an engine has been found, so a missing engine is one line, fast.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arbtui.commands._control import add_target_arguments, target
from engine.runtime.remote import RemoteEngine

if TYPE_CHECKING:
    from arbtui.app.app import Dashboard


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "attach",
        help="open the dashboard on the engine running headless on this machine",
        description="Open the dashboard on an engine started with `arbtui launch --no-ui`, through its control "
        "socket. Halt, kill, resume and profile keys act on that engine; q closes the viewer and leaves the "
        "engine running.",
    )
    add_target_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(attach(target(args)))


async def attach(data_dir: Path) -> int:
    """Show the dashboard of the engine on ``data_dir`` until the operator quits; the engine is left running."""
    remote = RemoteEngine(data_dir)
    await remote.start()  # NoEngineError / RemoteEngineError: one line, before any screen is drawn
    try:
        app = viewer(remote)
        await app.run_async()
        return app.return_code or 0
    finally:
        await remote.close()


def viewer(remote: RemoteEngine) -> Dashboard:
    """The dashboard as ``attach`` shows it: over ``remote``, marked attached, and ``q`` closes only the viewer."""
    from arbtui.app.app import build_app

    return build_app(remote, owns_engine=False, attached=True)
