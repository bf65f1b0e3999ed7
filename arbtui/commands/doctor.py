"""``arbtui doctor``: the preflight an operator runs before going live, one line per check.

Exit code 0 only if every check passes. Pointed at the simulator or production by ``KALSHI_BASE_URL`` and
``ODDS_API_BASE_URL``. No line ever shows a key, a signature or a header.

Each request has a deadline of ``--timeout`` seconds in all (retries and a server trickling its answer byte
by byte included, which httpx's per-read timeout alone does not bound), the whole command one of
``REQUESTS * --timeout`` plus a little; each check prints as soon as it finishes, and a check that breaks
reports itself without taking the others' lines with it.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from arbtui.cli import one_line
from engine.config.settings import Settings, settings_for_command
from engine.errors import ArbError

if TYPE_CHECKING:
    from engine.connectors.kalshi.rest import KalshiRestClient

MAX_SKEW_S = 2.0
"""Kalshi refuses stale signatures; the Date header has one-second resolution, so allow two."""
NAMES = ("settings", "kalshi key file", "kalshi auth", "exchange status", "clock skew", "odds api")
REQUESTS = 3
"""Network requests doctor makes (signed balance, exchange status, Odds API key): the command's deadline is
this many request deadlines."""
SLACK_S = 1.0
"""Added to the command deadline for local work: reading settings and the key, signing."""
MAX_TIMEOUT_S = 600.0

Report = Callable[["Check"], None]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: skipped because an earlier check failed
    detail: str

    def line(self) -> str:
        mark = "SKIP" if self.ok is None else ("ok" if self.ok else "FAIL")
        return f"[{mark:>4}] {self.name:<16} {self.detail}"


def seconds(text: str) -> float:
    """``--timeout``: a finite number of seconds above 0 (NaN, 0 or a negative value would never, or always,
    expire) and at most ``MAX_TIMEOUT_S``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0 or value > MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_TIMEOUT_S:g} seconds, got {text!r}")
    return value


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "doctor",
        help="preflight: settings, key file, signed request, exchange status, clock skew, Odds API key",
        description="Check that everything needed to go live works; exit code 0 only if all checks pass.",
    )
    parser.add_argument("--env-file", help="settings file to read; must exist (default: ./.env if present)")
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=5.0,
        help="seconds each request may take in all, retries included (default: 5)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    checks = asyncio.run(run_checks(args.env_file, args.timeout, report=_print_check))
    failed = [c for c in checks if c.ok is not True]
    print(f"doctor: {len(checks) - len(failed)}/{len(checks)} checks passed", file=sys.stderr if failed else sys.stdout)
    return 0 if not failed else 1


def _print_check(check: Check) -> None:
    print(check.line(), flush=True)


def command_deadline(timeout_s: float) -> float:
    return REQUESTS * timeout_s + SLACK_S


async def run_checks(env_file: str | None, timeout_s: float, *, report: Report | None = None) -> list[Check]:
    """Every check in ``NAMES`` order, each handed to ``report`` as it finishes; the list of all of them."""
    checks: list[Check] = []

    def done(check: Check) -> None:
        checks.append(check)
        if report is not None:
            report(check)

    deadline = command_deadline(timeout_s)
    try:
        async with asyncio.timeout(deadline):
            await _all_checks(env_file, timeout_s, done)
    except TimeoutError:
        for name in NAMES[len(checks) :]:
            done(Check(name, False, f"not finished within doctor's deadline of {deadline:g}s"))
    return checks


async def _all_checks(env_file: str | None, timeout_s: float, done: Report) -> None:
    try:
        settings = settings_for_command(env_file)
    except ArbError as exc:
        done(Check("settings", False, str(exc)))
        for name in NAMES[1:]:
            done(Check(name, None, "needs valid settings"))
        return
    done(Check("settings", True, f"kalshi {settings.kalshi_base_url}, odds {settings.odds_api_base_url}"))
    await _kalshi_checks(settings, timeout_s, done)
    done(await _probe("odds api", timeout_s, lambda: _odds_check(settings, timeout_s)))


async def _probe(name: str, timeout_s: float, call: Callable[[], Awaitable[Check]]) -> Check:
    """``call``'s check, or a failed one naming why: no full answer by the deadline, a venue error, or
    anything unexpected (reported on its own line instead of ending the command)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await call()
    except TimeoutError:
        return Check(name, False, f"no complete answer within {timeout_s:g}s")
    except ArbError as exc:
        return Check(name, False, one_line(exc))
    except Exception as exc:  # one broken check must not hide the others
        return Check(name, False, f"unexpected {one_line(exc)}")


async def _kalshi_checks(settings: Settings, timeout_s: float, done: Report) -> None:
    from engine.connectors.http import RetryPolicy  # the HTTP clients only once a check runs
    from engine.connectors.kalshi.rest import KalshiRestClient
    from engine.connectors.kalshi.signing import KalshiSigner, load_private_key

    later = ("kalshi auth", "exchange status", "clock skew")
    if not settings.kalshi_key_id or not settings.kalshi_private_key_path:
        missing = "KALSHI_KEY_ID" if not settings.kalshi_key_id else "KALSHI_PRIVATE_KEY_PATH"
        done(Check("kalshi key file", False, f"{missing} is not set"))
        for name in later:
            done(Check(name, None, "no key"))
        return
    try:
        signer = KalshiSigner(settings.kalshi_key_id, load_private_key(settings.kalshi_private_key_path))
    except ArbError as exc:
        done(Check("kalshi key file", False, str(exc)))
        for name in later:
            done(Check(name, None, "no usable key"))
        return
    done(Check("kalshi key file", True, f"{settings.kalshi_private_key_path} (RSA, private)"))
    retry = RetryPolicy(max_attempts=2)
    async with KalshiRestClient(settings.kalshi_base_url, signer, retry=retry, timeout_s=timeout_s) as kalshi:
        done(await _probe("kalshi auth", timeout_s, lambda: _auth_check(kalshi)))
        done(await _probe("exchange status", timeout_s, lambda: _status_check(kalshi)))
        done(await _probe("clock skew", timeout_s, lambda: _skew_check(kalshi)))


async def _auth_check(kalshi: KalshiRestClient) -> Check:
    balance = await kalshi.balance()
    return Check("kalshi auth", True, f"signed GET /portfolio/balance accepted, balance ${balance.balance}")


async def _status_check(kalshi: KalshiRestClient) -> Check:
    status = await kalshi.exchange_status()
    detail = f"exchange_active={status.exchange_active} trading_active={status.trading_active}"
    return Check("exchange status", status.open, detail)


async def _skew_check(kalshi: KalshiRestClient) -> Check:
    server = kalshi.last_server_date
    if server is None or kalshi.last_local_ms is None:
        return Check("clock skew", False, "no usable Date header received from Kalshi (missing, repeated or malformed)")
    if server.tzinfo is None:  # "-0000" (RFC 5322: UTC, local zone unknown) parses without a zone
        server = server.replace(tzinfo=UTC)
    local = datetime.fromtimestamp(kalshi.last_local_ms / 1000, tz=UTC)
    skew = (local - server).total_seconds()
    detail = f"local clock {'ahead of' if skew >= 0 else 'behind'} server by {abs(skew):.2f}s (limit {MAX_SKEW_S}s)"
    return Check("clock skew", abs(skew) <= MAX_SKEW_S, detail)


async def _odds_check(settings: Settings, timeout_s: float) -> Check:
    from engine.connectors.http import RetryPolicy
    from engine.connectors.odds_api.client import OddsApiClient

    if settings.odds_api_key is None or not settings.odds_api_key.get_secret_value():
        return Check("odds api", False, "ODDS_API_KEY is not set")
    async with OddsApiClient.from_settings(settings, retry=RetryPolicy(max_attempts=2), timeout_s=timeout_s) as odds:
        state = await odds.check_key()
    if state.remaining is None:
        return Check("odds api", False, "key accepted but no x-requests-remaining header")
    budget = settings.odds_api_daily_credits
    detail = f"key accepted, {state.remaining} credits left (used {state.used}); budget {budget}/day"
    return Check("odds api", state.remaining > 0, detail)
