"""The control socket: a running engine answers ``status`` and obeys ``halt``/``kill``/``resume``/``profile``
from another shell of the same user.

Anyone who can reach the socket can halt trading or switch the profile, so it is owner-only three times over:
it lives in a directory of mode 0700 owned by the user (``$XDG_RUNTIME_DIR/arbtui``, else ``run/`` under the
data directory), the socket itself is mode 0600, and each connection's peer uid is checked with
``SO_PEERCRED`` where the platform has it. The socket name is derived from the data directory, so two engines
on two stores never collide.

The server runs on the engine's own event loop and never stalls it: each connection is its own task with an
idle timeout, a bounded number of connections is served, and commands are applied one at a time so a
``halt`` and a ``resume`` from two shells cannot interleave. A ``dashboard`` answer (``arbtui attach`` asks
about ten times a second) is turned into JSON on a worker thread from the immutable snapshot, so a viewer
costs the engine's loop as little as a status does.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import stat
import struct
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.errors import ArbError
from engine.runtime.control_api import STATUS_FIELDS, EngineControl
from engine.runtime.control_protocol import (
    MAX_LINE,
    ControlProtocolError,
    Request,
    Response,
    decode_request,
    encode_response,
    to_wire,
)
from engine.runtime.instance import InstanceLock

log = logging.getLogger(__name__)

SOCKET_PATH_MAX = 107
"""sockaddr_un holds 108 bytes on Linux including the terminating NUL (104 on the BSDs)."""
IDLE_TIMEOUT_S = 30.0
MAX_CONNECTIONS = 16


class ControlError(ArbError):
    """The control socket cannot be placed, opened or trusted."""


def runtime_directory(data_dir: Path, env: Mapping[str, str]) -> Path:
    """``$XDG_RUNTIME_DIR/arbtui`` when that is an absolute existing directory, else ``<data_dir>/run``."""
    xdg = env.get("XDG_RUNTIME_DIR", "")
    if xdg and Path(xdg).is_absolute() and Path(xdg).is_dir():
        return Path(xdg) / "arbtui"
    return Path(os.path.abspath(data_dir)) / "run"


def socket_path(data_dir: Path, env: Mapping[str, str]) -> Path:
    """Where the engine for ``data_dir`` listens; a :class:`ControlError` if the path is too long to bind."""
    digest = hashlib.sha256(os.fsencode(os.path.abspath(data_dir))).hexdigest()[:16]
    path = runtime_directory(data_dir, env) / f"control-{digest}.sock"
    if len(os.fsencode(path)) > SOCKET_PATH_MAX:
        raise ControlError(
            f"control socket path {path} is longer than {SOCKET_PATH_MAX} bytes; "
            "set XDG_RUNTIME_DIR to a short directory or use a shorter data directory"
        )
    return path


def ensure_private_directory(path: Path) -> None:
    """Create ``path`` mode 0700, or check an existing one is a real directory this user owns (tightening
    its mode if it is looser): a socket in a directory others can enter or replace is not owner-only."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError as exc:
        raise ControlError(f"cannot create the control directory {path}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ControlError(f"control directory {path} is not a directory (a symlink or file is in the way)")
    if info.st_uid != os.geteuid():
        raise ControlError(f"control directory {path} belongs to uid {info.st_uid}, not to this user")
    if info.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)
        except OSError as exc:
            raise ControlError(f"cannot make {path} private (mode 0700): {exc.strerror or exc}") from None


def peer_uid(sock: socket.socket | Any) -> int | None:
    """The uid of the process at the other end of a Unix socket, None where ``SO_PEERCRED`` is missing."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return int(uid)


class ControlServer:
    """Serves one :class:`EngineControl` on a Unix socket; ``start`` binds, ``close`` unbinds and unlinks.

    ``allowed_uid`` is the only peer uid served (the process's own by default).
    """

    def __init__(self, engine: EngineControl, path: Path, *, allowed_uid: int | None = None) -> None:
        self.engine = engine
        self.path = Path(path)
        self.allowed_uid = os.geteuid() if allowed_uid is None else allowed_uid
        self.refused_peers = 0
        self._server: asyncio.Server | None = None
        self._command_lock = asyncio.Lock()
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        ensure_private_directory(self.path.parent)
        self._remove_stale_socket()
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=self.path, limit=MAX_LINE + 1)
            os.chmod(self.path, 0o600)
        except OSError as exc:
            await self.close()
            raise ControlError(f"cannot open the control socket {self.path}: {exc.strerror or exc}") from None

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await server.wait_closed()
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    async def __aenter__(self) -> ControlServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def _remove_stale_socket(self) -> None:
        """Unlink a socket left by an engine that died; the caller holds the data directory's instance lock,
        so no live engine owns it. Anything that is not a socket is left alone and refused."""
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(info.st_mode):
            raise ControlError(f"{self.path} exists and is not a socket; remove it if it is not needed")
        self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            if len(self._handlers) > MAX_CONNECTIONS:
                await _send(writer, Response(False, error="too many control connections; try again"))
                return
            uid = peer_uid(writer.get_extra_info("socket"))
            if uid is not None and uid != self.allowed_uid:
                self.refused_peers += 1
                log.warning("control socket: refused a connection from uid %d", uid)
                await _send(writer, Response(False, error=f"uid {uid} may not control this engine"))
                return
            await self._conversation(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if task is not None:
                self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _conversation(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                async with asyncio.timeout(IDLE_TIMEOUT_S):
                    line = await reader.readline()
            except TimeoutError:
                return
            except (ValueError, asyncio.LimitOverrunError):
                await _send(writer, Response(False, error=f"request longer than {MAX_LINE} bytes"))
                return
            if not line:
                return
            try:
                request = decode_request(line)
            except ControlProtocolError as exc:
                await _send(writer, Response(False, error=str(exc)))
                return
            await _send(writer, await self.handle(request))

    async def handle(self, request: Request) -> Response:
        """Apply one request and answer with the status that follows it, or the one-line refusal."""
        try:
            if request.command == "dashboard":
                snap = await self.engine.dashboard()
                doc = await asyncio.to_thread(snap.to_json)
                return Response(True, status=self.status(), dashboard=doc)
            if request.command == "detail":
                detail = await self.engine.signal_detail(request.args["key"])
                return Response(True, status=self.status(), detail=None if detail is None else detail.to_json())
            if request.command != "status":
                async with self._command_lock:
                    await self._apply(request)
            return Response(True, status=self.status())
        except ArbError as exc:
            return Response(False, error=str(exc))
        except Exception as exc:
            log.exception("control command %s failed", request.command)
            return Response(False, error=f"the engine failed on {request.command}: {type(exc).__name__}: {exc}")

    async def _apply(self, request: Request) -> None:
        args = request.args
        if request.command == "halt":
            log.info("control: halt (%s)", args["reason"])
            await self.engine.halt(args["reason"])
        elif request.command == "kill":
            log.info("control: kill (%s)", args["reason"])
            await self.engine.kill(args["reason"])
        elif request.command == "resume":
            log.info("control: resume")
            await self.engine.resume()
        elif request.command == "profile":
            log.info("control: profile %s", args["name"])
            await self.engine.set_profile(args["name"])
        else:  # decode_request admits only the known commands
            raise ControlProtocolError(f"unknown control command {request.command!r}")

    def status(self) -> dict[str, Any]:
        """The engine's status document, checked to carry every field ``status --json`` promises."""
        doc = to_wire(self.engine.snapshot().to_json())
        if not isinstance(doc, dict):
            raise ControlProtocolError("the engine's status is not a JSON object")
        missing = [name for name in STATUS_FIELDS if name not in doc]
        if missing:
            raise ControlProtocolError(f"the engine's status lacks field(s): {', '.join(missing)}")
        return doc


async def _send(writer: asyncio.StreamWriter, response: Response) -> None:
    try:
        if response.dashboard is None:
            data = encode_response(response)
        else:
            data = await asyncio.to_thread(encode_response, response)
    except ControlProtocolError as exc:
        data = encode_response(Response(False, error=str(exc)))
    writer.write(data)
    await writer.drain()


def claim_instance(data_dir: Path, env: Mapping[str, str], now: datetime) -> InstanceLock:
    """Lock ``data_dir`` for this engine, recording where its control socket will be.

    Call first at launch, before anything connects or trades: a second engine is refused with the first's
    PID (:class:`~engine.runtime.instance.AlreadyRunningError`). Then serve the engine with
    ``ControlServer(engine, lock.info.socket_path)`` and release the lock last, after the server closed.
    """
    return InstanceLock.acquire(data_dir, socket_path=socket_path(data_dir, env), now=now)
