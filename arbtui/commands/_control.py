"""What the control commands (``status``, ``halt``, ``kill``, ``resume``, ``profile``) share: finding the
engine's data directory the way ``launch`` does, talking to it, and asking before a consequential command.

A command that cancels orders or restarts trading must not run because a script forgot a flag, so ``kill``
and ``resume`` ask on a terminal and, without one, run only with ``--yes``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from engine.config.settings import settings_for_command
from engine.errors import ArbError
from engine.runtime.control_client import command
from engine.runtime.control_protocol import Request
from engine.runtime.instance import data_directory


class NotConfirmedError(ArbError):
    """The operator did not confirm a consequential command (or could not: no terminal, no ``--yes``)."""


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` and ``--env-file``: which engine to talk to (the one ``launch`` runs on that store)."""
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="the engine's data directory (default: DATABASE_URL's directory, else $XDG_DATA_HOME/arbtui)",
    )
    parser.add_argument("--env-file", help="settings file to read; must exist (default: ./.env if present)")


def target(args: argparse.Namespace) -> Path:
    """The data directory the command addresses: ``--data-dir``, else the one the settings' store is in."""
    explicit: str | None = args.data_dir
    if explicit is not None:
        if not explicit.strip():
            raise ArbError("--data-dir is empty; give the engine's data directory")
        return Path(os.path.abspath(Path(explicit).expanduser()))
    return data_directory(settings_for_command(args.env_file).database_url, os.environ)


def send(args: argparse.Namespace, request: Request) -> dict[str, object]:
    """Send ``request`` to the engine ``args`` names; its status after the command."""
    return command(target(args), request)


def confirm(
    action: str,
    question: str,
    *,
    yes: bool,
    interactive: Callable[[], bool] | None = None,
    ask: Callable[[str], str] | None = None,
) -> None:
    """Return if the operator agrees to ``action``; :class:`NotConfirmedError` otherwise.

    ``--yes`` agrees up front; on a terminal the operator must answer ``y`` or ``yes``; without a terminal and
    without ``--yes`` the command is refused, naming the flag.
    """
    if yes:
        return
    if not (interactive or stdin_is_terminal)():
        raise NotConfirmedError(f"refusing to {action} without confirmation: no terminal to ask on; add --yes")
    try:
        answer = (ask or input)(f"{question} [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in {"y", "yes"}:
        raise NotConfirmedError(f"{action} not confirmed; nothing was sent")


def stdin_is_terminal() -> bool:
    """Whether an answer can be asked for: standard input is a terminal (not a pipe, a file or closed)."""
    stream = sys.stdin
    return stream is not None and not stream.closed and stream.isatty()


def breaker_line(status: dict[str, object]) -> str:
    """``breaker halted (reason); orders open 0, unknown 0`` from a status document."""
    breaker = status.get("breaker")
    orders = status.get("orders")
    state = reason = ""
    if isinstance(breaker, dict):
        state, reason = str(breaker.get("state", "")), str(breaker.get("reason", ""))
    text = f"breaker {state}" + (f" ({reason})" if reason else "")
    if isinstance(orders, dict):
        text += f"; orders open {orders.get('open')}, unknown {orders.get('unknown')}"
    return text
