"""``arbtui resume``: leave a halt or a kill; the engine trades again under the breaker's rules.

Asks first on a terminal and needs ``--yes`` without one: it restarts trading with real consequences.
"""

from __future__ import annotations

import argparse
from typing import Any

from arbtui.commands._control import add_target_arguments, breaker_line, confirm, send, target
from engine.runtime.control_protocol import Request


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "resume",
        help="let the running engine trade again after a halt or kill",
        description=(
            "Resume trading after 'arbtui halt' or 'arbtui kill'. Asks for confirmation on a terminal; "
            "without one, --yes is required."
        ),
    )
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask; required without a terminal")
    add_target_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data_dir = target(args)
    confirm("resume", f"Resume trading in the engine for {data_dir}?", yes=args.yes)
    status = send(args, Request("resume"))
    print(f"resumed: {breaker_line(status)}")
    return 0
