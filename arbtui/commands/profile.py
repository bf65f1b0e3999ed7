"""``arbtui profile NAME``: switch the running engine's trading profile; the next evaluation uses it.

The name is checked here first, so a typo is refused with the list of profiles before anything is sent.
"""

from __future__ import annotations

import argparse
from typing import Any

from arbtui.commands._control import add_target_arguments, send
from engine.config.profiles import ProfileName, profile_name
from engine.runtime.control_protocol import Request


def register(subparsers: Any) -> None:
    known = ", ".join(p.value for p in ProfileName)
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "profile",
        help="switch the running engine's trading profile",
        description=f"Switch the running engine's trading profile without a restart. Profiles: {known}.",
    )
    parser.add_argument("name", metavar="NAME", help=f"one of {known} (any case)")
    add_target_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    name = profile_name(args.name).value
    send(args, Request("profile", {"name": name}))
    # The engine accepted it; its status shows the new name once the next evaluation has used it.
    print(f"profile {name} set (used from the next evaluation)")
    return 0
