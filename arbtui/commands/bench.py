"""``arbtui bench``: measured speed of the hot paths, printed as one JSON object."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

from engine.bench.stats import MIN_REPEAT

PARTS = ("detection", "mapping", "connectors", "execution", "storage", "runtime")


def at_least(low: int) -> Callable[[str], int]:
    """An integer option with a floor: a board needs one game (two markets), a timing one pass."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def sizes(low: int) -> Callable[[str], tuple[int, ...]]:
    """A comma-separated list of board sizes (``500,2000,8000``), each with the floor of :func:`at_least`."""
    one = at_least(low)

    def parse(text: str) -> tuple[int, ...]:
        parts = [p.strip() for p in text.split(",")]
        if not all(parts):
            raise argparse.ArgumentTypeError(f"expected sizes separated by commas, got {text!r}")
        return tuple(one(p) for p in parts)

    return parse


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "bench",
        help="benchmark detection, mapping, connectors, execution, storage and the runtime; print JSON",
        description="detection: a cold full pass over a generated board of 2,000 markets x 4 books, the "
        "screened and the exact full pass, a warm re-screen and one quote change. mapping: 2,000 Kalshi markets "
        "against 1,000 Odds API events. connectors: WebSocket book updates per second and REST round trips "
        "against the local simulator. execution: signal -> breaker -> paper order, and signal -> order acknowledged by "
        "the simulator. storage: order and fill commits on SQLite and PostgreSQL, ILP rows to QuestDB's protocol. "
        "runtime: the running engine on 2,000 markets x 4 books (book delta -> signal, loop lag, CPU). "
        "Each figure is the median, p99 and minimum of at least 5 repetitions "
        "after a warm-up, with the Python version, the collector state and the load average. Timings are for "
        "this machine; nothing is asserted.",
    )
    parser.add_argument(
        "--markets",
        type=sizes(2),
        default=(2000,),
        help="Kalshi markets on the detection board; several (500,2000,8000) print the growth",
    )
    parser.add_argument(
        "--repeat", type=at_least(MIN_REPEAT), default=7, help=f"timed repetitions per figure (at least {MIN_REPEAT})"
    )
    parser.add_argument("--only", choices=PARTS, action="append", help="run only these parts (repeatable)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    parts = args.only or list(PARTS)
    out: dict[str, Any] = {}
    if "detection" in parts:
        from engine.bench.detection import bench_detection

        out["detection"] = bench_detection(args.markets, args.repeat)
    if "mapping" in parts:
        from engine.bench.mapping import bench_mapping

        out["mapping"] = bench_mapping(args.repeat)
    if "connectors" in parts:
        from engine.bench.connectors import bench_connectors

        out["connectors"] = asyncio.run(bench_connectors())
    if "execution" in parts:
        from engine.bench.execution import bench_execution

        out["execution"] = asyncio.run(bench_execution())
    if "runtime" in parts:
        from engine.bench.runtime import bench_runtime

        out["runtime"] = asyncio.run(bench_runtime())
    if "storage" in parts:
        import os

        from engine.bench.ilp import bench_ilp
        from engine.bench.storage import bench_sql_stores

        out["storage"] = {**asyncio.run(bench_sql_stores(os.environ.get("DATABASE_URL"))), "ilp": bench_ilp()}
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
