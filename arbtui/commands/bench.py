"""``arbtui bench``: measured speed of the hot paths, printed as one JSON object."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from engine.detection.bench import bench_detection


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "bench",
        help="benchmark detection (and mapping/connectors) and print JSON",
        description="Full detection over a generated board and one incremental re-evaluation after a quote "
        "change; timings in ms and us on this machine.",
    )
    parser.add_argument("--markets", type=int, default=2000, help="Kalshi markets on the generated board")
    parser.add_argument("--repeat", type=int, default=20, help="full passes to time")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out: dict[str, Any] = {"detection": bench_detection(args.markets, args.repeat)}
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
