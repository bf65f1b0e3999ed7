"""``RemoteEngine``: the :class:`~engine.runtime.control_api.EngineControl` of an engine running in another
process, reached through its control socket, so ``arbtui attach`` opens the same dashboard on a headless
server engine without restarting it.

The dashboard asks for a snapshot about ten times a second; each ask is one ``dashboard`` request on one
long-lived connection (concurrent asks share the request in flight), and the answer is parsed and rebuilt
with ``DashboardSnapshot.from_json`` on a worker thread so a large board never stalls the screen's loop.
The selected signal's detail (``signal_detail``) has a long-lived connection of its own, one request at a
time, so it never waits behind a snapshot and a snapshot never waits behind it; a caller that gives up
(the app asks again for a newer selection) leaves its request to finish, so no stale answer is left on
the connection. Commands (halt, kill, resume, profile) each take a fresh connection of their own: a halt
never queues behind a snapshot being read. Anything that goes wrong is an :class:`~engine.errors.ArbError` with one line
naming it (the engine stopped, it refused, it did not answer in time); the next ask reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ArbError
from engine.runtime.control_client import (
    COMMAND_TIMEOUT_S,
    NoEngineError,
    _check_socket_owner,
    find_engine,
)
from engine.runtime.control_protocol import (
    MAX_DASHBOARD_LINE,
    MAX_LINE,
    ControlProtocolError,
    Request,
    Response,
    decode_response,
    encode_request,
)
from engine.runtime.dashboard import DashboardSnapshot, SignalDetail
from engine.runtime.instance import InstanceInfo

DASHBOARD_TIMEOUT_S = 15.0
"""How long one snapshot may take: a busy engine (thousands of markets on a small machine) answers late
rather than never, and the app skips its pulls while one is in flight, so late only lowers the refresh
rate; an error is shown when the engine is truly stuck."""


class RemoteEngineError(ArbError):
    """The remote engine could not be reached, did not answer in time, or answered something unreadable."""


class RemoteRefusedError(ArbError):
    """The remote engine refused a command; the message is the engine's own, shown to the operator as is."""


@dataclass(frozen=True, slots=True)
class RemoteStatus:
    """A status document received from the engine (:class:`~engine.runtime.control_api.StatusSnapshot`)."""

    doc: Mapping[str, Any]

    def to_json(self) -> Mapping[str, Any]:
        return self.doc


class _Connection:
    """One open connection to the control socket; one request and one answer at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, path: Path, limit: int) -> _Connection:
        reader, writer = await asyncio.open_unix_connection(os.fspath(path), limit=limit + 1)
        return cls(reader, writer)

    async def exchange(self, request: Request) -> bytes:
        """Send ``request`` and return the answer's line; ``b""`` if the engine closed the connection."""
        self.writer.write(encode_request(request))
        await self.writer.drain()
        return await self.reader.readline()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


class RemoteEngine:
    """Drives the engine that runs on ``data_dir`` (found through its instance lock file, like ``status``).

    ``start`` checks an engine is there and reads its first snapshot; ``close`` drops the connection and
    leaves the engine running.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        poll_timeout_s: float = DASHBOARD_TIMEOUT_S,
        command_timeout_s: float = COMMAND_TIMEOUT_S,
    ) -> None:
        self.data_dir = data_dir
        self.poll_timeout_s = poll_timeout_s
        self.command_timeout_s = command_timeout_s
        self._info: InstanceInfo | None = None
        self._poll: _Connection | None = None
        self._detail: _Connection | None = None
        self._detail_lock = asyncio.Lock()
        self._detail_tasks: set[asyncio.Task[SignalDetail | None]] = set()
        self._in_flight: asyncio.Task[DashboardSnapshot] | None = None
        self._status: RemoteStatus | None = None
        self._latest: DashboardSnapshot | None = None

    @property
    def pid(self) -> int | None:
        """The engine's process id, once found."""
        return None if self._info is None else self._info.pid

    async def start(self) -> DashboardSnapshot:
        """Find the engine and read its first snapshot; :class:`NoEngineError` if none runs there."""
        self._info = find_engine(self.data_dir)
        return await self.dashboard()

    async def close(self) -> None:
        task, self._in_flight = self._in_flight, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ArbError):
                await task
        for pending in list(self._detail_tasks):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, ArbError):
                await pending
        await self._drop()
        detail, self._detail = self._detail, None
        if detail is not None:
            await detail.close()

    async def __aenter__(self) -> RemoteEngine:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # -- EngineControl ------------------------------------------------------------------------------

    def snapshot(self) -> RemoteStatus:
        """The status document that came with the last answer (never waits on the socket)."""
        if self._status is None:
            raise RemoteEngineError(f"not attached to the engine for {self.data_dir} yet")
        return self._status

    async def dashboard(self) -> DashboardSnapshot:
        """The engine's current dashboard snapshot, fetched now (callers asking at once share one fetch)."""
        task = self._in_flight
        if task is None or task.done():
            task = self._in_flight = asyncio.ensure_future(self._fetch())
        return await asyncio.shield(task)

    @property
    def latest(self) -> DashboardSnapshot | None:
        """The last snapshot received, without asking again."""
        return self._latest

    async def signal_detail(self, key: str) -> SignalDetail | None:
        """The signal ``key``'s consensus pane, fetched now on the detail connection; None if not live."""
        task = asyncio.ensure_future(self._fetch_detail(key))
        self._detail_tasks.add(task)
        task.add_done_callback(self._detail_done)
        return await asyncio.shield(task)

    def _detail_done(self, task: asyncio.Task[SignalDetail | None]) -> None:
        self._detail_tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a caller that gave up never leaves an unread error behind

    async def halt(self, reason: str) -> None:
        await self._command(Request("halt", {"reason": reason}))

    async def kill(self, reason: str) -> None:
        await self._command(Request("kill", {"reason": reason}))

    async def resume(self) -> None:
        await self._command(Request("resume"))

    async def set_profile(self, name: str) -> None:
        await self._command(Request("profile", {"name": name}))

    # -- the wire -------------------------------------------------------------------------------------

    def _engine(self) -> InstanceInfo:
        if self._info is None:
            self._info = find_engine(self.data_dir)
        return self._info

    async def _connect(self, limit: int, timeout_s: float) -> _Connection:
        info = self._engine()
        _check_socket_owner(info.socket_path)
        try:
            async with asyncio.timeout(timeout_s):
                return await _Connection.open(info.socket_path, limit)
        except (FileNotFoundError, ConnectionRefusedError):
            raise self._gone() from None
        except TimeoutError:
            raise RemoteEngineError(self._late("connect", timeout_s)) from None
        except OSError as exc:
            raise RemoteEngineError(f"cannot reach the engine at {info.socket_path}: {exc.strerror or exc}") from None

    async def _fetch(self) -> DashboardSnapshot:
        line = b""
        for attempt in (1, 2):  # a kept connection the engine closed (idle, restarted) is retried once fresh
            fresh = self._poll is None
            if self._poll is None:
                self._poll = await self._connect(MAX_DASHBOARD_LINE, self.poll_timeout_s)
            line = await self._ask(self._poll, Request("dashboard"), self.poll_timeout_s, keep=True)
            if line or fresh or attempt == 2:
                break
        if not line:
            await self._drop()
            raise self._gone("closed the connection without answering")
        status, snap = await asyncio.to_thread(_parse_dashboard, line)
        self._status = RemoteStatus(status)
        self._latest = snap
        return snap

    async def _fetch_detail(self, key: str) -> SignalDetail | None:
        request = Request("detail", {"key": key})
        async with self._detail_lock:
            line = b""
            for attempt in (1, 2):  # as for snapshots: a kept connection the engine closed is retried fresh
                fresh = self._detail is None
                if self._detail is None:
                    self._detail = await self._connect(MAX_LINE, self.command_timeout_s)
                line = await self._ask(self._detail, request, self.command_timeout_s, keep=True)
                if line or fresh or attempt == 2:
                    break
            if not line:  # _ask dropped the connection: the next ask opens a fresh one
                raise self._gone("closed the connection without answering the detail request")
        response = _decode(line, MAX_LINE)
        if not response.ok or response.status is None:
            raise RemoteRefusedError(response.error or "the engine refused the signal's detail")
        self._status = RemoteStatus(response.status)
        if response.detail is None:
            return None
        try:
            return SignalDetail.from_json(response.detail)
        except ArbError as exc:
            raise RemoteEngineError(f"unreadable signal detail from the engine: {exc}") from None

    async def _command(self, request: Request) -> None:
        conn = await self._connect(MAX_LINE, self.command_timeout_s)
        try:
            line = await self._ask(conn, request, self.command_timeout_s, keep=False)
        finally:
            await conn.close()
        if not line:
            raise self._gone(f"closed the connection without answering {request.command}")
        response = _decode(line, MAX_LINE)
        if not response.ok or response.status is None:
            raise RemoteRefusedError(response.error or f"the engine refused {request.command}")
        self._status = RemoteStatus(response.status)

    async def _ask(self, conn: _Connection, request: Request, timeout_s: float, *, keep: bool) -> bytes:
        try:
            async with asyncio.timeout(timeout_s):
                line = await conn.exchange(request)
        except TimeoutError:
            await self._drop_conn(conn, keep)
            raise RemoteEngineError(self._late(request.command, timeout_s)) from None
        except (ValueError, asyncio.LimitOverrunError):
            await self._drop_conn(conn, keep)
            raise RemoteEngineError(f"the engine's answer to {request.command} is too long to read") from None
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            await self._drop_conn(conn, keep)
            if not keep:
                raise self._gone(f"dropped the connection: {exc}") from None
            return b""
        if not line and keep:
            await self._drop_conn(conn, keep)
        return line

    async def _drop_conn(self, conn: _Connection, keep: bool) -> None:
        if keep and conn is self._poll:
            self._poll = None
        if keep and conn is self._detail:
            self._detail = None
        await conn.close()

    async def _drop(self) -> None:
        conn, self._poll = self._poll, None
        if conn is not None:
            await conn.close()

    def _gone(self, what: str = "is not answering") -> ArbError:
        """:class:`NoEngineError` when the engine's process has ended, else a one-line connection error."""
        try:
            self._info = find_engine(self.data_dir)
        except NoEngineError as exc:
            return exc
        return RemoteEngineError(f"the engine (PID {self._info.pid}) for {self.data_dir} {what}")

    def _late(self, what: str, timeout_s: float) -> str:
        pid = "?" if self._info is None else self._info.pid
        return f"the engine (PID {pid}) for {self.data_dir} did not answer {what} within {timeout_s:g} s"


def _decode(line: bytes, limit: int) -> Response:
    try:
        return decode_response(line, limit=limit)
    except ControlProtocolError as exc:
        raise RemoteEngineError(f"unreadable answer from the engine: {exc}") from None


def _parse_dashboard(line: bytes) -> tuple[Mapping[str, Any], DashboardSnapshot]:
    """The status and the rebuilt snapshot from a ``dashboard`` answer (runs on a worker thread)."""
    response = _decode(line, MAX_DASHBOARD_LINE)
    if not response.ok or response.status is None:
        raise RemoteRefusedError(response.error or "the engine refused the dashboard")
    if response.dashboard is None:
        raise RemoteEngineError("the engine answered the dashboard request without a dashboard")
    try:
        return response.status, DashboardSnapshot.from_json(response.dashboard)
    except ArbError as exc:
        raise RemoteEngineError(f"unreadable dashboard from the engine: {exc}") from None
