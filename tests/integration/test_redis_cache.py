"""The Redis cache against real servers: TTL expiry on the shared server at 127.0.0.1:6379 (under a key
prefix of its own), the status followed by a second process (``arbtui status --redis``), and a private
``redis-server`` on a free port stopped and restarted under a running engine: the engine keeps trading and
its loop never waits, the snapshot says the cache is down, and the cache reconnects and catches up alone."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from builders import NOW, yes_asks

from engine.cache.redis_cache import RedisCache, fresh_books
from engine.runtime.sinks import Sinks
from engine.runtime.snapshot import FeedState
from engine.sim import Simulator
from tests.integration.clientkit import eventually
from tests.integration.runtime_kit import feed_state, running_engine

pytestmark = pytest.mark.integration
SHARED = "redis://127.0.0.1:6379/0"
TICKER = "KXNFLGAME-26DEC02DETSF-DET"


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI must provide it)")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env() -> dict[str, str]:
    """The server runs on the real clock: a clock-shifting preload meant for the tests (at-hours) is not passed
    on, since the redis-server binary does not start under it and its own time is not what is tested here."""
    return {k: v for k, v in os.environ.items() if k not in {"LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_RESET"}}


class PrivateRedis:
    """A redis-server of the test's own on a free port, so stopping it leaves the shared one untouched."""

    def __init__(self, tmp: Path) -> None:
        self.port = _free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_server_env(),
        )
        deadline = time.monotonic() + 10
        while not _reachable(self.port):
            assert time.monotonic() < deadline, "private redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    _need(shutil.which("redis-server") is not None, "redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def shared() -> AsyncIterator[aioredis.Redis]:
    _need(_reachable(6379), "no Redis server on 127.0.0.1:6379")
    client = aioredis.Redis.from_url(SHARED, decode_responses=True)
    yield client
    await client.aclose()


async def test_books_expire_with_their_ttl_and_only_fresh_ones_warm_up(shared: aioredis.Redis) -> None:
    prefix = f"arbtui-test-{uuid.uuid4().hex[:8]}"
    cache = RedisCache(SHARED, prefix=prefix, book_ttl_s=1, flush_interval_s=0.01)
    await cache.start()
    book = yes_asks(TICKER, [("0.5600", "10")], yes_bids=[("0.5400", "3")])
    try:
        cache.book(TICKER, book, NOW)
        key = f"{prefix}:book:{TICKER}"
        await eventually(lambda: cache.writes > 0)
        assert 0 < await shared.pttl(key) <= 1000
        doc = json.loads(await shared.get(key))
        assert doc == {
            "ts": "2026-11-25T18:00:00Z",
            "ticker": TICKER,
            "yes": [["0.5400", "3"]],
            "no": [["0.4400", "10"]],
        }
        warm = await cache.warm(NOW + timedelta(seconds=0.5), max_book_age_s=30, max_odds_age_s=30)
        assert warm.books == {TICKER: (NOW, book)}
        deadline = time.monotonic() + 5
        while await shared.exists(key):
            assert time.monotonic() < deadline, "the book outlived its TTL"
            await asyncio.sleep(0.05)
        warm = await cache.warm(NOW + timedelta(seconds=0.5), max_book_age_s=30, max_odds_age_s=30)
        assert warm.books == {}
    finally:
        await cache.close()
    docs = {"k": json.dumps({"ts": "2026-11-25T18:00:00Z", "ticker": TICKER, "yes": [], "no": [["0.4", "1"]]}),
            "bad": "{not json", "none": None}  # fmt: skip
    fresh, skipped = fresh_books(docs, NOW + timedelta(seconds=29), 30)
    assert list(fresh) == [TICKER] and skipped == 2
    assert fresh_books(docs, NOW + timedelta(seconds=31), 30)[0] == {}  # older than the limit
    assert fresh_books(docs, NOW - timedelta(seconds=1), 30)[0] == {}  # from the future: refused


def _arbtui(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "arbtui.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


async def test_a_second_process_follows_the_status(sim: Simulator, tmp_path: Path, private_redis: PrivateRedis) -> None:
    env = {**os.environ, "REDIS_URL": private_redis.url, "XDG_DATA_HOME": str(tmp_path / "nowhere")}
    async with running_engine(sim, tmp_path) as run:
        cache = RedisCache(private_redis.url, identity={"pid": 4242, "host": "engine-host", "data_dir": "/srv/arb"})
        run.engine.sink = Sinks([cache])
        await cache.start()
        follower = _arbtui("status", "--redis", "--follow", "--json", env=env)
        try:
            assert follower.stdout is not None
            seen = []
            for _ in range(3):  # the current status, then each one published after it
                line = await asyncio.to_thread(follower.stdout.readline)
                assert line, follower.stderr.read() if follower.stderr else ""
                seen.append(json.loads(line))
            assert all(doc["mode"] == "PAPER" and "breaker" in doc for doc in seen)
            assert len({doc["ts"] for doc in seen}) == 3  # three different snapshots, as published
            one_shot = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-m", "arbtui.cli", "status", "--redis"], capture_output=True,
                text=True, env=env, timeout=30, check=False,
            )  # fmt: skip
            assert one_shot.returncode == 0, one_shot.stderr
            assert "PID 4242" in one_shot.stdout and "via Redis redis://127.0.0.1" in one_shot.stdout
            assert "by host engine-host" in one_shot.stdout
            # no engine on this data directory's socket: status falls back to Redis by itself
            automatic = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-m", "arbtui.cli", "status", "--json"], capture_output=True,
                text=True, env=env, timeout=30, check=False,
            )  # fmt: skip
            assert automatic.returncode == 0, automatic.stderr
            assert json.loads(automatic.stdout)["mode"] == "PAPER"
        finally:
            follower.kill()
            follower.communicate(timeout=10)  # reaps it and closes its pipes
            await cache.close()


async def test_status_without_redis_is_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{_free_port()}/0", "XDG_DATA_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "arbtui.cli", "status", "--redis"], capture_output=True, text=True,
                          env=env, timeout=30, check=False)  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot read the engine's status from Redis" in lines[0], done.stderr


async def test_redis_restarted_under_a_running_engine(
    sim: Simulator, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    async with running_engine(sim, tmp_path) as run:
        engine = run.engine
        cache = RedisCache(private_redis.url, flush_interval_s=0.05, op_timeout_s=0.5, max_backoff_s=0.5)
        engine.sink = Sinks([cache])
        await cache.start()
        client = aioredis.Redis.from_url(private_redis.url, decode_responses=True)
        try:
            # Up and writing; a first write that outlived op_timeout_s on a loaded machine leaves the feed
            # DEGRADED ("recovered from") for a while instead of CONNECTED, and counts a reconnect.
            await eventually(lambda: cache.connected and cache.writes > 3, timeout_s=10)
            assert feed_state(engine, "redis") in (FeedState.CONNECTED, FeedState.DEGRADED)
            reconnects = cache.reconnects
            assert await client.exists("arbtui:status")
            assert await client.keys("arbtui:book:*")

            gaps: list[float] = []

            async def heartbeat() -> None:
                last = time.monotonic()
                while True:
                    await asyncio.sleep(0.01)
                    now = time.monotonic()
                    gaps.append(now - last)
                    last = now

            beat = asyncio.create_task(heartbeat())
            await asyncio.to_thread(private_redis.stop)  # the test's own waits must not stall the loop it measures
            await eventually(lambda: feed_state(engine, "redis") is FeedState.DOWN, timeout_s=10)
            snapshot = engine.build_snapshot()
            redis_health = next(f for f in snapshot.feeds if f.name == "redis")
            assert "cache degraded: trading from memory" in redis_health.detail
            assert snapshot.to_json()["feeds"]["redis"]["state"] == "down"
            books_before = dict(engine.book_seen_at)
            await eventually(lambda: engine.book_seen_at != books_before, timeout_s=10)  # still trading from memory
            await asyncio.sleep(1.0)  # the writer retries against the dead server meanwhile
            await asyncio.to_thread(private_redis.start)
            await eventually(lambda: feed_state(engine, "redis") is not FeedState.DOWN, timeout_s=15)
            beat.cancel()
            await client.aclose()
            client = aioredis.Redis.from_url(private_redis.url, decode_responses=True)
            await eventually(lambda: cache.reconnects == reconnects + 1, timeout_s=5)
            status = None
            deadline = time.monotonic() + 10
            while status is None:
                assert time.monotonic() < deadline, "the status never reappeared after the restart"
                status = await client.get("arbtui:status")
                await asyncio.sleep(0.05)
            assert json.loads(status)["status"]["mode"] == "PAPER"
            assert await client.keys("arbtui:book:*")  # the newest books, written again after the restart
            assert max(gaps) < 0.5, f"the event loop waited {max(gaps):.3f} s on Redis"
        finally:
            await cache.close()
            await client.aclose()
