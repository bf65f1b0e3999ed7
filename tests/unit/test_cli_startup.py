"""Every ``arbtui`` command builds the whole argument parser first, so each command module imports at its
top only what its arguments need; the simulator, the runtime, the HTTP and Redis clients, numpy, the mapper
and Textual come in when a command that uses them runs (``arbtui halt`` in an emergency should not wait a
second for the simulator's web server to import)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "engine.sim",
    "engine.runtime.assemble",
    "engine.runtime.engine",
    "engine.detection.board",
    "engine.mapping.resolver",
    "engine.bench.detection",
    "aiohttp",
    "httpx",
    "websockets",
    "redis",
    "numpy",
    "textual",
)


def test_building_the_parser_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from arbtui.cli import build_parser\n"
        "build_parser()\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"
