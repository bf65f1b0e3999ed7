"""``arbtui halt``: stop the running engine sending new orders; resting orders stay (``kill`` cancels them).

No confirmation: halting only ever reduces risk, and an operator reaching for it should not be slowed down.
"""

from __future__ import annotations

import argparse
from typing import Any

from arbtui.commands._control import add_target_arguments, breaker_line, send
from engine.runtime.control_protocol import Request

DEFAULT_REASON = "operator halt (arbtui halt)"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "halt",
        help="stop the running engine sending new orders",
        description="Halt the running engine: no new orders until 'arbtui resume'; resting orders stay.",
    )
    parser.add_argument("--reason", default=DEFAULT_REASON, help="why, recorded with the breaker state")
    add_target_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    status = send(args, Request("halt", {"reason": args.reason}))
    print(f"halted: {breaker_line(status)}")
    return 0
