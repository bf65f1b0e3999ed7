"""``arbtui scan SNAPSHOT``: offline detection on a captured snapshot, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from arbtui.textable import render_table
from engine.config.profiles import build_profile
from engine.config.settings import load_settings
from engine.detection.signals import SignalKind
from engine.mapping.overrides import load_overrides
from engine.markets.snapshot import load_snapshot
from engine.money import money_str, price_str
from engine.scan import ScanReport, scan


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "scan",
        help="detect edges and arbitrage in a snapshot file (offline)",
        description="Map every Kalshi market in SNAPSHOT to its sportsbook event and list the orders worth "
        "placing at the snapshot's as_of time. Defaults come from the environment / .env.",
    )
    parser.add_argument("snapshot", help="snapshot JSON file (see README: Snapshot format)")
    parser.add_argument("--profile", help="trading profile (default: TRADING_PROFILE)")
    parser.add_argument("--bankroll", type=_decimal, help="bankroll in dollars (default: TRADING_BANKROLL)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--env-file", default=".env", help="settings file to read (default: .env)")
    parser.add_argument(
        "--overrides", help="mapping overrides file: manual pairs and blocks (default: MAPPING_OVERRIDES_FILE)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.env_file)
    profile = settings.profile() if args.profile is None else build_profile(args.profile)
    bankroll = args.bankroll if args.bankroll is not None else settings.trading_bankroll
    overrides_path = args.overrides or settings.mapping_overrides_file
    overrides = load_overrides(overrides_path) if overrides_path else None
    report = scan(load_snapshot(args.snapshot), profile, bankroll, settings.max_position_size, overrides)
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_report(report)
    return 0


def print_report(report: ScanReport) -> None:
    as_of = report.as_of.isoformat().replace("+00:00", "Z")
    print(f"arbtui scan  as of {as_of}  profile {report.profile.name}  bankroll ${money_str(report.bankroll)}")
    print()
    headers = (
        "kind",
        "ticker",
        "side",
        "fair",
        "ask",
        "edge",
        "margin",
        "books",
        "count",
        "limit",
        "cost",
        "fees",
        "EV",
    )
    rows = []
    for s in report.result.signals:
        data = s.to_json()
        rows.append(
            (
                s.kind.value,
                " + ".join(s.tickers) if s.kind is SignalKind.KALSHI_ARB else s.ticker,
                s.side.value.upper(),
                "" if s.fair is None else f"{s.fair:.4f}",
                data["ask"],
                data["edge"],
                data.get("margin") or "",
                f"{s.books_agree}/{len(s.books)}" if s.books else "",
                str(s.count),
                data["limit_price"],
                data["cost"],
                data["fees"],
                data["ev"],
            )
        )
    print(render_table(headers, rows, right=frozenset(range(3, 13))) if rows else "no signals")
    for s in report.result.signals:
        for h in s.hedges:
            point = "" if h.point is None else f" {h.point:+}"
            print(
                f"  hedge for {s.kind.value} {s.ticker} {s.side.value.upper()}: back {h.outcome}{point} at {h.book} "
                f"(decimal {h.decimal_odds:.4f}), ${h.stake:.4f} per contract"
            )
        for ticker, limit in zip(s.tickers, s.leg_limits, strict=True):
            print(f"  leg of kalshi_arb: buy {s.side.value.upper()} {ticker} up to {price_str(limit)}")
    unmatched = {u.ticker for u in report.unmatched}
    sections = (
        ("not priced", [(s.ticker, s.reason) for s in report.result.skipped if s.ticker not in unmatched]),
        ("unmatched", [(u.ticker, u.reason) for u in report.unmatched]),
        ("bad payloads skipped", [("", str(e)) for e in report.errors]),
    )
    for title, items in sections:
        if items:
            print(f"\n{title} ({len(items)})")
            for ticker, reason in items:
                print(f"  {ticker}: {reason}" if ticker else f"  {reason}")
