"""``arbtui kill``: the kill switch from another shell: halt and cancel every resting order.

Asks first on a terminal and needs ``--yes`` without one: cancelling every order is not undone by ``resume``.
"""

from __future__ import annotations

import argparse
from typing import Any

from arbtui.commands._control import add_target_arguments, breaker_line, confirm, send, target
from engine.runtime.control_protocol import Request

DEFAULT_REASON = "operator kill (arbtui kill)"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "kill",
        help="halt the running engine and cancel every resting order",
        description=(
            "Kill switch: halt the running engine and cancel every resting order. Asks for confirmation on a "
            "terminal; without one, --yes is required."
        ),
    )
    parser.add_argument("--reason", default=DEFAULT_REASON, help="why, recorded with the breaker state")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask; required without a terminal")
    add_target_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data_dir = target(args)
    confirm(
        "kill",
        f"Kill the engine for {data_dir}: halt it and cancel every resting order?",
        yes=args.yes,
    )
    status = send(args, Request("kill", {"reason": args.reason}))
    print(f"killed: {breaker_line(status)}")
    return 0
