"""Entry point of the ``arbtui`` command: one CLI, one subcommand per operator task.

Whatever goes wrong, a command ends with one line on stderr naming it and a non-zero exit code: an operator
with money at stake must see what failed, not a traceback to decode. ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from arbtui import __version__
from arbtui.commands import COMMANDS
from engine.errors import ArbError

INTERRUPTED = 130
"""The shell's code for a process stopped by SIGINT (128 + 2)."""

MAX_MESSAGE = 400
_SECRET_QUERY = re.compile(r"(?i)(api_?key|key|token|signature)=[^&\s'\"]+")


class OneLineParser(argparse.ArgumentParser):
    """An argument error is one line naming the argument (the usage is one ``--help`` away), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="arbtui",
        description="Kalshi-first arbitrage and +EV detection for sports markets.",
    )
    parser.add_argument("--version", action="version", version=f"arbtui {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="on an error, also print the traceback")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"arbtui.commands.{name}")
        module.register(sub)
    for command in sub.choices.values():
        _add_verbose(command)
    return parser


def _add_verbose(command: argparse.ArgumentParser) -> None:
    """``--verbose`` on every command. SUPPRESS: ``arbtui --verbose scan`` keeps the flag instead of the
    subcommand resetting it to False. A command that defines ``-v`` itself keeps it and gets ``--verbose`` only."""
    for flags in (("-v", "--verbose"), ("--verbose",)):
        try:
            command.add_argument(
                *flags, action="store_true", default=argparse.SUPPRESS, help="on an error, print the traceback"
            )
            return
        except argparse.ArgumentError:
            continue


def one_line(exc: BaseException) -> str:
    """``exc`` as one short line; query-string secrets (``apiKey=...``) that a URL in it may carry are masked."""
    text = " ".join(str(exc).split())
    if not isinstance(exc, ArbError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    text = _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=<hidden>", text)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    prog = f"arbtui {args.command}"
    verbose = bool(getattr(args, "verbose", False))
    try:
        code: int = func(args)
    except ArbError as exc:
        _report(prog, one_line(exc), exc, verbose)
        return 1
    except KeyboardInterrupt as exc:
        _report(prog, "interrupted", exc, verbose, label="stopped")
        return INTERRUPTED
    except BrokenPipeError:  # output piped into `head` and the like: not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        hint = "" if verbose else " (run with --verbose for the traceback)"
        _report(prog, f"unexpected {one_line(exc)}{hint}", exc, verbose)
        return 1
    return code


def _report(prog: str, message: str, exc: BaseException, verbose: bool, *, label: str = "error") -> None:
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    print(f"{prog}: {label}: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
