"""One module per ``arbtui`` subcommand; each exposes ``register(subparsers)`` and sets ``func`` on its parser.

``func(args) -> int`` is the exit code. Add a module here and its name to ``COMMANDS``.
"""

COMMANDS: tuple[str, ...] = (
    "scan",
    "bench",
    "doctor",
    "capture",
    "sim",
    "map",
    "audit",
    "schema",
    "status",
    "halt",
    "kill",
    "resume",
    "profile",
    "launch",
    "attach",
)
