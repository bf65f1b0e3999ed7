"""The real PostgreSQL on 127.0.0.1:5432 for the store tests: a throwaway database per test session, a clean
schema per test, and a loopback TCP proxy that can cut the server off and bring it back.

No server reachable: the tests skip saying so, except under ``CI=true`` where the server is part of the
environment (``.ci/run`` starts it) and its absence fails them. ``ARBTUI_TEST_PG`` names another server (a
URL to its maintenance database, default ``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

T = TypeVar("T")
ADMIN_URL = os.environ.get("ARBTUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def with_database(url: str, name: str, *, port: int | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if port is not None:
        netloc = netloc.rsplit(":", 1)[0] if parts.port is not None else netloc
        netloc = f"{netloc}:{port}"
    return urlunsplit(parts._replace(path=f"/{name}", netloc=netloc))


async def _reachable() -> str | None:
    try:
        conn = await asyncpg.connect(ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on its own loop in its own thread (callable from inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """A new database ``arbtui_test_<random>`` for the session; dropped (connections and all) afterwards.
    Synchronous (short event loops on a worker thread) so a session fixture can hold it across the tests' loops."""
    problem = _run(_reachable)
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no PostgreSQL at {ADMIN_URL} ({problem}); .ci/run must start it")
        pytest.skip(f"no PostgreSQL reachable at {ADMIN_URL} ({problem}); set ARBTUI_TEST_PG or start one")
    name = f"arbtui_test_{secrets.token_hex(4)}"
    _run(lambda: _admin(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(ADMIN_URL, name)
    finally:
        _run(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def reset(url: str) -> None:
    """An empty ``public`` schema: every test starts from a database no migration has touched."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


class Proxy:
    """A loopback TCP proxy in front of the server: ``cut()`` drops every connection and refuses new ones
    (the database is gone, as a network failure makes it), ``restore()`` accepts again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        for task in (asyncio.ensure_future(self._pipe(reader, up_writer)),
                     asyncio.ensure_future(self._pipe(up_reader, writer))):  # fmt: skip
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()
