"""``arbtui capture --out FILE``: record one consistent snapshot (markets, orderbooks, series, odds) from
the configured endpoints, in the format ``arbtui scan`` reads. Spends one Odds API call per sport."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.config.settings import Settings, settings_for_command
from engine.errors import ArbError
from engine.mapping.teams import LEAGUES
from engine.markets.snapshot import parse_snapshot

if TYPE_CHECKING:
    from engine.connectors.capture import CaptureReport


class CaptureOutputError(ArbError):
    """The snapshot file cannot be written where ``--out`` says."""


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "capture",
        help="record a snapshot (markets, orderbooks, series, odds) for arbtui scan",
        description="Fetch the open sports game markets, their order books and series from Kalshi and the "
        "matching sportsbook odds (one Odds API call per sport, every profile book), and write them as "
        "one snapshot file.",
    )
    parser.add_argument("--out", required=True, type=Path, help="snapshot file to write (JSON)")
    parser.add_argument("--leagues", type=_csv, help=f"comma-separated leagues (default: all of {','.join(LEAGUES)})")
    parser.add_argument("--odds-markets", type=_csv, help="odds markets to ask for (default: what Kalshi lists)")
    parser.add_argument("--no-odds", action="store_true", help="skip the Odds API (spends no credits)")
    parser.add_argument("--env-file", help="settings file to read; must exist (default: ./.env if present)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_for_command(args.env_file)
    if args.leagues:
        unknown = [lg for lg in args.leagues if lg not in LEAGUES]
        if unknown:
            print(f"arbtui capture: unknown leagues {unknown}; known: {', '.join(LEAGUES)}", file=sys.stderr)
            return 2
    # The output must be writable before the first request: a capture spends Odds API credits.
    tmp = _open_temp(args.out)
    try:
        doc, report = asyncio.run(_capture(settings, args))
        parsed = parse_snapshot(doc)  # what scan will see; refuse to write something it cannot read
        _write_atomic(tmp, args.out, doc)
    finally:
        tmp.unlink(missing_ok=True)  # on success it was renamed away; on any failure nothing is left behind
    _print_report(args.out, report, len(parsed.errors))
    return 0


async def _capture(settings: Settings, args: argparse.Namespace) -> tuple[dict[str, Any], CaptureReport]:
    from engine.connectors.capture import capture_snapshot  # the HTTP clients only once a capture runs
    from engine.connectors.kalshi.rest import KalshiRestClient
    from engine.connectors.odds_api.client import OddsApiClient

    books = settings.profile().books
    async with KalshiRestClient.from_settings(settings) as kalshi:
        if args.no_odds:
            return await capture_snapshot(kalshi, None, bookmakers=books, leagues=args.leagues)
        async with OddsApiClient.from_settings(settings) as odds:
            return await capture_snapshot(
                kalshi, odds, bookmakers=books, leagues=args.leagues, odds_markets=args.odds_markets
            )


def _open_temp(out: Path) -> Path:
    """Create the temporary file next to ``out`` (proving the directory exists and is writable) and return
    its path; :func:`_write_atomic` later fills it and renames it over ``out``."""
    if out.is_dir():
        raise CaptureOutputError(f"--out {out} is a directory; name a file")
    if not out.parent.is_dir():
        raise CaptureOutputError(f"--out {out}: directory {out.parent} does not exist")
    try:
        fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise CaptureOutputError(f"--out {out} cannot be written: {exc.strerror}") from None
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)  # market data, not a secret: the mode a plain write would give
    finally:
        os.close(fd)
    return Path(name)


def _write_atomic(tmp: Path, out: Path, doc: dict[str, Any]) -> None:
    try:
        tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        raise CaptureOutputError(f"--out {out} cannot be written: {exc.strerror or exc}") from None


def _print_report(path: Path, report: CaptureReport, bad_entries: int) -> None:
    print(f"wrote {path}: {report.markets} markets, {report.orderbooks} orderbooks, {len(report.series)} series, "
          f"{report.odds_events} odds events")  # fmt: skip
    print(f"odds api: {report.odds_calls} calls, {report.credits_spent} credits spent, "
          f"{report.credits_remaining if report.credits_remaining is not None else 'unknown'} remaining")  # fmt: skip
    if bad_entries:
        print(f"warning: {bad_entries} entries will be skipped by scan (malformed payloads)", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
