"""``arbtui scan SNAPSHOT``: offline detection on a captured snapshot, as a table or JSON.

The profile is ``--profile`` if given, else ``TRADING_PROFILE``; every ``PROFILE_*`` override from the
environment or the settings file applies on top of either, and the output names the ones applied (a
command-line profile that silently dropped an operator's ``PROFILE_BOOKS`` would price against books they
removed on purpose). Rows that are the same Kalshi exposure are one bet: one is sized, the others are
listed as alternatives (see :mod:`arbtui.bets`).
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from arbtui.bets import BetRow, group_bets, two_way_partners
from arbtui.textable import render_table
from engine.config.profiles import Profile
from engine.config.settings import Settings, settings_for_command
from engine.detection.signals import Signal, SignalKind
from engine.mapping.overrides import load_overrides
from engine.markets.snapshot import load_snapshot
from engine.money import money_str, price_str

if TYPE_CHECKING:
    from engine.scan import ScanReport

STRICT_EXIT = 3
"""Exit code of ``--strict`` when the scan ran but skipped bad entries (1 is "could not run at all")."""


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
        "placing at the snapshot's as_of time. Defaults come from the environment / .env; PROFILE_* overrides "
        "apply on top of --profile.",
    )
    parser.add_argument("snapshot", help="snapshot JSON file (see README: Snapshot format)")
    parser.add_argument("--profile", help="base trading profile (default: TRADING_PROFILE); PROFILE_* still apply")
    parser.add_argument("--bankroll", type=_decimal, help="bankroll in dollars (default: TRADING_BANKROLL)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--env-file", help="settings file to read; must exist (default: ./.env if present)")
    parser.add_argument(
        "--overrides", help="mapping overrides file: manual pairs and blocks (default: MAPPING_OVERRIDES_FILE)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help=f"exit {STRICT_EXIT} after the output if any bad snapshot entry was skipped",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.mapping.resolver import winner_groups  # mapping and detection only for this command
    from engine.scan import scan

    settings = settings_for_command(args.env_file)
    profile = settings.profile(args.profile)
    bankroll = args.bankroll if args.bankroll is not None else settings.trading_bankroll
    overrides_path = args.overrides or settings.mapping_overrides_file
    overrides = load_overrides(overrides_path) if overrides_path else None
    snapshot = load_snapshot(args.snapshot)
    report = scan(snapshot, profile, bankroll, settings.max_position_size, overrides)
    partners = two_way_partners([m.ticker for m in g] for g in winner_groups(snapshot.markets))
    bets = group_bets(report.result.signals, partners)
    source = "--profile" if args.profile is not None else "TRADING_PROFILE"
    if args.json:
        json.dump(report_json(report, bets, source, settings), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_report(report, bets, profile_line(profile, source, settings))
    if args.strict and report.errors:
        n = len(report.errors)
        print(f"arbtui scan: error: --strict: {n} bad snapshot {'entry' if n == 1 else 'entries'} skipped",
              file=sys.stderr)  # fmt: skip
        return STRICT_EXIT
    return 0


def profile_line(profile: Profile, source: str, settings: Settings) -> str:
    """``profile AGGRESSIVE (--profile) + PROFILE_MIN_EDGE=0.04``: where the profile and its overrides came from."""
    applied = settings.profile_overrides()
    extra = " + " + ", ".join(f"{k}={v}" for k, v in applied.items()) if applied else ""
    return f"profile {profile.name} ({source}){extra}"


def report_json(report: ScanReport, bets: list[BetRow], source: str, settings: Settings) -> dict[str, Any]:
    """The engine's report plus where the profile came from and the bet grouping.

    Signals are in bet order. An alternative (``"kept": false``) carries ``count`` 0 and zero cost, fees
    and EV so that summing over signals never counts one exposure twice; what it would cost on its own is
    under ``"alone"``.
    """
    out = report.to_json()
    out["profile_source"] = source
    out["profile_overrides"] = settings.profile_overrides()
    signals = []
    for row in bets:
        data = row.signal.to_json()
        data["bet"] = row.bet
        data["kept"] = row.kept
        if not row.kept:
            data["alone"] = {k: data[k] for k in ("count", "cost", "fees", "ev")}
            data.update(count=0, cost="0.00", fees="0.00", ev="0.0000")
        signals.append(data)
    out["signals"] = signals
    return out


HEADERS = ("bet", "kind", "ticker", "side", "fair", "ask", "edge", "margin", "books", "count", "limit", "cost",
           "fees", "EV")  # fmt: skip


def _row(row: BetRow) -> tuple[str, ...]:
    s = row.signal
    data = s.to_json()
    locked = s.kind is not SignalKind.EDGE
    sized = (str(s.count), data["limit_price"], data["cost"], data["fees"], data["ev"])
    return (
        str(row.bet) if row.kept else f"{row.bet} alt",
        s.kind.value,
        " + ".join(s.tickers) if s.kind is SignalKind.KALSHI_ARB else s.ticker,
        s.side.value.upper(),
        "" if s.fair is None else f"{s.fair:.4f}",
        data["ask"],
        "" if locked else data["edge"],  # an arb's edge against the consensus is not what it earns
        data.get("margin") or "",
        f"{s.books_agree}/{len(s.books)}" if s.books else "",
        *(sized if row.kept else ("-", data["limit_price"], "-", "-", "-")),
    )


def _name(s: Signal) -> str:
    return f"{s.kind.value} {s.ticker} {s.side.value.upper()}"


def print_report(report: ScanReport, bets: list[BetRow], profile: str) -> None:
    as_of = report.as_of.isoformat().replace("+00:00", "Z")
    print(f"arbtui scan  as of {as_of}  {profile}  bankroll ${money_str(report.bankroll)}")
    print()
    rows = [_row(r) for r in bets]
    print(render_table(HEADERS, rows, right=frozenset(range(4, 14))) if rows else "no signals")
    kept = {r.bet: r.signal for r in bets if r.kept}
    for r in bets:
        if not r.kept:
            print(f"  bet {r.bet} alt: {_name(r.signal)} is the same exposure as {_name(kept[r.bet])}; "
                  "only that one is sized")  # fmt: skip
    for s in (r.signal for r in bets if r.kept):  # an alternative's hedges are not to be placed
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
        ("duplicates merged", [("", note) for note in report.notes]),
    )
    for title, items in sections:
        if items:
            print(f"\n{title} ({len(items)})")
            for ticker, reason in items:
                print(f"  {ticker}: {reason}" if ticker else f"  {reason}")
