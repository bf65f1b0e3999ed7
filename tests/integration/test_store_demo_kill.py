"""The headless demo on PostgreSQL, killed with SIGKILL after it filled orders: nothing it logged is lost.

``launch --no-ui --demo`` with ``DATABASE_URL`` pointing at a throwaway database on the real server trades
until it has logged fills, then dies without any chance to clean up. Every fill it logged is in the database
(each was committed before it was reported), and a second run over the same database starts, reconciles
and trades on without sending any ``client_order_id`` a second time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pgkit import reset, throwaway_database

from engine.execution.model import AuditKind
from engine.store.postgres import PostgresStore

pytestmark = pytest.mark.integration
RUN = "import sys\nfrom arbtui.cli import main\nsys.exit(main(sys.argv[1:]))\n"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with throwaway_database() as url:
        yield url


def _env(tmp: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "ODDS_API_", "DATABASE_URL"))}
    env.update(XDG_DATA_HOME=str(tmp / "data"), XDG_RUNTIME_DIR=str(tmp / "run"), PAPER_TRADING="true",
               DATABASE_URL=url)  # fmt: skip
    (tmp / "run").mkdir(mode=0o700, exist_ok=True)
    return env


def _lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line being written
    return out


def _run_until(tmp: Path, url: str, name: str, want: dict[str, int], timeout_s: float) -> subprocess.Popen[bytes]:
    log = tmp / f"{name}.jsonl"
    with log.open("wb") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-c", RUN, "launch", "--no-ui", "--demo", "--log-format", "json"],
            cwd=tmp, env=_env(tmp, url), stdout=stdout, stderr=subprocess.PIPE,
        )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        counts = Counter(d.get("kind") for d in _lines(log))
        if all(counts[k] >= n for k, n in want.items()):
            return proc
        if proc.poll() is not None:
            raise AssertionError(f"launch exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    raise AssertionError(f"no {want} within {timeout_s}s; saw {Counter(d.get('kind') for d in _lines(log))}")


async def _stored(url: str) -> tuple[set[str], list[str]]:
    store = await PostgresStore.open(url)
    try:
        fills = {f.fill_id for f in await store.fills()}
        intents = [str(e.data["client_order_id"]) for e in await store.audit(kinds=[AuditKind.ORDER])]
    finally:
        await store.close()
    return fills, intents


async def test_demo_killed_after_fills_restarts_with_every_fill_and_no_order_twice(tmp_path: Path, pg_url: str) -> None:
    await reset(pg_url)
    first = _run_until(tmp_path, pg_url, "first", {"fill": 2}, 60.0)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    logged = {d["fill_id"] for d in _lines(tmp_path / "first.jsonl") if d.get("kind") == "fill"}
    assert len(logged) >= 2

    fills, intents = await _stored(pg_url)
    assert logged <= fills, f"fills logged but not stored: {sorted(logged - fills)}"

    second = _run_until(tmp_path, pg_url, "second", {"reconcile": 1, "fill": 1}, 60.0)
    second.send_signal(signal.SIGTERM)
    _, err = second.communicate(timeout=30)
    assert second.returncode == 0, err.decode()[-2000:]
    lines = _lines(tmp_path / "second.jsonl")
    assert "postgresql://" in lines[0]["message"]
    reconcile = next(d for d in lines if d.get("kind") == "reconcile")
    assert reconcile["ok"] is True and reconcile["fills"] >= len(logged)

    fills_after, intents_after = await _stored(pg_url)
    assert fills <= fills_after
    twice = [cid for cid, n in Counter(intents_after).items() if n > 1]
    assert not twice, f"client_order_id recorded twice: {twice}"
    assert set(intents) <= set(intents_after)
