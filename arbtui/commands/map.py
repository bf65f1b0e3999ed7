"""``arbtui map SNAPSHOT [--json]``: what each Kalshi market in a snapshot maps to, and why.

Prints, per Kalshi market, the Odds API event id, the outcome YES corresponds to (team, ``Draw``, or
``Over``/``Under`` with the point), the confidence and the evidence; unmatched markets with the reason.
``--json`` prints JSON lines with keys ``ticker``, ``odds_event_id``, ``outcome``, ``point``, ``confidence``,
``reason`` (plus ``market_key`` and ``evidence``).

Overrides come from ``--overrides`` or else ``MAPPING_OVERRIDES_FILE`` (environment or settings file), the
same as ``scan``, so ``map`` always explains the mapping ``scan`` prices.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from engine.config.settings import settings_for_command
from engine.mapping.overrides import Overrides, load_overrides
from engine.mapping.types import MappingResult, MarketMatch
from engine.markets.kalshi import KalshiMarket, SeriesInfo
from engine.markets.snapshot import load_snapshot

STRICT_EXIT = 3
"""Exit code of ``--strict`` when the mapping ran but skipped bad snapshot entries."""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "map",
        help="show how each Kalshi market in a snapshot maps to a sportsbook event (offline)",
        description="Map every Kalshi market in SNAPSHOT to its Odds API event and outcome, with the evidence; "
        "unmatched markets are listed with the reason.",
    )
    parser.add_argument("snapshot", help="snapshot JSON file (see README: Snapshot format)")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    parser.add_argument(
        "--overrides", help="mapping overrides file: manual pairs and blocks (default: MAPPING_OVERRIDES_FILE)"
    )
    parser.add_argument("--env-file", help="settings file to read; must exist (default: ./.env if present)")
    parser.add_argument(
        "--strict", action="store_true", help=f"exit {STRICT_EXIT} after the output if any bad entry was skipped"
    )
    parser.set_defaults(func=run)


def rows(result: MappingResult, tickers: list[str]) -> list[dict[str, Any]]:
    """One row per Kalshi ticker, in snapshot order: matched ones with the outcome, others with the reason."""
    reasons = {u.ticker: u.reason for u in result.unmatched}
    out: list[dict[str, Any]] = []
    for ticker in tickers:
        match = result.matches.get(ticker)
        if match is not None:
            out.append(_matched(match))
        else:
            out.append(
                {
                    "ticker": ticker,
                    "odds_event_id": None,
                    "outcome": None,
                    "point": None,
                    "confidence": 0.0,
                    "reason": reasons.get(ticker, "not considered"),
                }
            )
    return out


def _matched(match: MarketMatch) -> dict[str, Any]:
    return {
        "ticker": match.ticker,
        "odds_event_id": match.odds_event_id,
        "market_key": match.market_key.value,
        "outcome": match.outcome,
        "point": None if match.point is None else str(match.point),
        "confidence": match.confidence,
        "reason": None,
        "evidence": [{"signal": e.signal, "score": e.score, "detail": e.detail} for e in match.evidence],
    }


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except BrokenPipeError:  # output piped into head/less that exited early
        return 0


def _run(args: argparse.Namespace) -> int:
    settings = settings_for_command(args.env_file)
    overrides_path = args.overrides or settings.mapping_overrides_file
    overrides = load_overrides(overrides_path) if overrides_path else Overrides()
    snapshot = load_snapshot(args.snapshot)
    from engine.mapping.resolver import resolve  # the mapper only for this command

    result = resolve(snapshot.markets, snapshot.odds, overrides=overrides)
    table = rows(result, list(dict.fromkeys(m.ticker for m in snapshot.markets)))
    out = sys.stdout
    for error in snapshot.errors:
        print(f"skipped bad payload: {error}", file=sys.stderr)
    for note in snapshot.notes:
        print(f"duplicate merged: {note}", file=sys.stderr)
    if args.json:
        for row in table:
            out.write(json.dumps(row) + "\n")
    else:
        _write_text(out, snapshot.series.values(), snapshot.markets, table)
    if args.strict and snapshot.errors:
        n = len(snapshot.errors)
        print(f"arbtui map: error: --strict: {n} bad snapshot {'entry' if n == 1 else 'entries'} skipped",
              file=sys.stderr)  # fmt: skip
        return STRICT_EXIT
    return 0


def _write_text(
    out: TextIO, series: Iterable[SeriesInfo], markets: Iterable[KalshiMarket], table: list[dict[str, Any]]
) -> None:
    matched = sum(1 for r in table if r["odds_event_id"] is not None)
    out.write(f"{matched} of {len(table)} Kalshi markets mapped\n")
    from engine.mapping.discovery import discover

    known = [*series, *(SeriesInfo(m.series_ticker) for m in markets)]
    for reason in discover(known).unpriced.values():
        out.write(f"NOT PRICED {reason}\n")
    for row in table:
        if row["odds_event_id"] is None:
            out.write(f"UNMATCHED {row['ticker']}: {row['reason']}\n")
            continue
        line = row["outcome"] if row["point"] is None else f"{row['outcome']} {row['point']}"
        out.write(
            f"{row['ticker']} -> {row['odds_event_id']} {row['market_key']} YES={line} "
            f"confidence={row['confidence']:.2f}\n"
        )
        for ev in row["evidence"]:
            out.write(f"    {ev['signal']:<12} {ev['score']:.2f}  {ev['detail']}\n")
