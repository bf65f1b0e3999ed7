"""Entry point of the ``arbtui`` command: one CLI, one subcommand per operator task."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from arbtui import __version__
from arbtui.commands import COMMANDS
from engine.errors import ArbError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arbtui",
        description="Kalshi-first arbitrage and +EV detection for sports markets.",
    )
    parser.add_argument("--version", action="version", version=f"arbtui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"arbtui.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        code: int = func(args)
    except ArbError as exc:
        print(f"arbtui {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
