"""``arbtui doctor``: the preflight an operator runs before going live, one line per check.

Exit code 0 only if every check passes. Pointed at the simulator or production by ``KALSHI_BASE_URL`` and
``ODDS_API_BASE_URL``. No line ever shows a key, a signature or a header.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.config.settings import Settings, settings_for_command
from engine.connectors.errors import ConnectorError
from engine.connectors.http import RetryPolicy
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.signing import KalshiSigner, load_private_key
from engine.connectors.odds_api.client import OddsApiClient
from engine.errors import ArbError

MAX_SKEW_S = 2.0
"""Kalshi refuses stale signatures; the Date header has one-second resolution, so allow two."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: skipped because an earlier check failed
    detail: str

    def line(self) -> str:
        mark = "SKIP" if self.ok is None else ("ok" if self.ok else "FAIL")
        return f"[{mark:>4}] {self.name:<16} {self.detail}"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "doctor",
        help="preflight: settings, key file, signed request, exchange status, clock skew, Odds API key",
        description="Check that everything needed to go live works; exit code 0 only if all checks pass.",
    )
    parser.add_argument("--env-file", help="settings file to read; must exist (default: ./.env if present)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request (default: 5)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    checks = asyncio.run(run_checks(args.env_file, args.timeout))
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.ok is not True]
    print(f"doctor: {len(checks) - len(failed)}/{len(checks)} checks passed", file=sys.stderr if failed else sys.stdout)
    return 0 if not failed else 1


def _fail(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ArbError) else type(exc).__name__


async def run_checks(env_file: str | None, timeout_s: float) -> list[Check]:
    try:
        settings = settings_for_command(env_file)
    except ArbError as exc:
        names = ("kalshi key file", "kalshi auth", "exchange status", "clock skew", "odds api")
        return [Check("settings", False, str(exc)), *(Check(n, None, "needs valid settings") for n in names)]
    checks = [Check("settings", True, f"kalshi {settings.kalshi_base_url}, odds {settings.odds_api_base_url}")]
    checks += await _kalshi_checks(settings, timeout_s)
    checks.append(await _odds_check(settings, timeout_s))
    return checks


async def _kalshi_checks(settings: Settings, timeout_s: float) -> list[Check]:
    later = ("kalshi auth", "exchange status", "clock skew")
    if not settings.kalshi_key_id or not settings.kalshi_private_key_path:
        missing = "KALSHI_KEY_ID" if not settings.kalshi_key_id else "KALSHI_PRIVATE_KEY_PATH"
        return [Check("kalshi key file", False, f"{missing} is not set"), *(Check(n, None, "no key") for n in later)]
    try:
        signer = KalshiSigner(settings.kalshi_key_id, load_private_key(settings.kalshi_private_key_path))
    except ArbError as exc:
        return [Check("kalshi key file", False, str(exc)), *(Check(n, None, "no usable key") for n in later)]
    out = [Check("kalshi key file", True, f"{settings.kalshi_private_key_path} (RSA, private)")]
    retry = RetryPolicy(max_attempts=2)
    async with KalshiRestClient(settings.kalshi_base_url, signer, retry=retry, timeout_s=timeout_s) as kalshi:
        try:
            balance = await kalshi.balance()
            out.append(
                Check("kalshi auth", True, f"signed GET /portfolio/balance accepted, balance ${balance.balance}")
            )
        except (ConnectorError, ArbError) as exc:
            out.append(Check("kalshi auth", False, _fail(exc)))
        try:
            status = await kalshi.exchange_status()
            detail = f"exchange_active={status.exchange_active} trading_active={status.trading_active}"
            out.append(Check("exchange status", status.open, detail))
        except (ConnectorError, ArbError) as exc:
            out.append(Check("exchange status", False, _fail(exc)))
        out.append(_skew_check(kalshi))
    return out


def _skew_check(kalshi: KalshiRestClient) -> Check:
    if kalshi.last_server_date is None or kalshi.last_local_ms is None:
        return Check("clock skew", False, "no Date header received from Kalshi")
    local = datetime.fromtimestamp(kalshi.last_local_ms / 1000, tz=UTC)
    skew = (local - kalshi.last_server_date).total_seconds()
    detail = f"local clock {'ahead of' if skew >= 0 else 'behind'} server by {abs(skew):.2f}s (limit {MAX_SKEW_S}s)"
    return Check("clock skew", abs(skew) <= MAX_SKEW_S, detail)


async def _odds_check(settings: Settings, timeout_s: float) -> Check:
    if settings.odds_api_key is None or not settings.odds_api_key.get_secret_value():
        return Check("odds api", False, "ODDS_API_KEY is not set")
    try:
        async with OddsApiClient.from_settings(
            settings, retry=RetryPolicy(max_attempts=2), timeout_s=timeout_s
        ) as odds:
            state = await odds.check_key()
    except (ConnectorError, ArbError) as exc:
        return Check("odds api", False, _fail(exc))
    if state.remaining is None:
        return Check("odds api", False, "key accepted but no x-requests-remaining header")
    budget = settings.odds_api_daily_credits
    detail = f"key accepted, {state.remaining} credits left (used {state.used}); budget {budget}/day"
    return Check("odds api", state.remaining > 0, detail)
