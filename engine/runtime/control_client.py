"""The other end of the control socket, for one-shot commands (``arbtui status``, ``halt``, ...).

Blocking on purpose: a command sends one request and waits for one answer, and a plain socket with a timeout
says exactly what went wrong (no engine, an engine that does not answer, a refusal) without an event loop.
The engine is found through its data directory's lock file, which names its socket, so the command works
from a shell whose ``XDG_RUNTIME_DIR`` differs from the engine's.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from engine.errors import ArbError
from engine.runtime.control_protocol import (
    MAX_LINE,
    ControlProtocolError,
    Request,
    Response,
    decode_response,
    encode_request,
)
from engine.runtime.instance import InstanceInfo, read_instance

STATUS_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 30.0
"""A kill waits for the exchange to cancel resting orders; a status is answered from a snapshot."""


class NoEngineError(ArbError):
    """No engine is running for the data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        super().__init__(f"no arbtui engine is running for {data_dir}")


class ControlRefusedError(ArbError):
    """The engine answered, and refused (an unknown profile, a peer not allowed...) or did not answer in time."""


def find_engine(data_dir: Path) -> InstanceInfo:
    """The running engine for ``data_dir``, or :class:`NoEngineError` (no lock file, or its PID is gone)."""
    info = read_instance(data_dir)
    if info is None or not _alive(info.pid):
        raise NoEngineError(data_dir)
    return info


def request(data_dir: Path, req: Request, *, timeout_s: float | None = None) -> Response:
    """Send ``req`` to the engine for ``data_dir`` and return its answer (``ok`` or not).

    :class:`NoEngineError` when nothing runs there (including a lock file naming a dead PID or a socket
    nobody listens on), :class:`ControlRefusedError` when the engine does not answer within the timeout.
    """
    info = find_engine(data_dir)
    timeout = (
        timeout_s if timeout_s is not None else (STATUS_TIMEOUT_S if req.command == "status" else COMMAND_TIMEOUT_S)
    )
    _check_socket_owner(info.socket_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(os.fspath(info.socket_path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise NoEngineError(data_dir) from None
        except TimeoutError:
            raise ControlRefusedError(_late(info, data_dir, timeout)) from None
        except OSError as exc:
            raise ControlRefusedError(f"cannot reach the engine at {info.socket_path}: {exc.strerror or exc}") from None
        sent: OSError | None = None
        try:
            sock.sendall(encode_request(req))
        except TimeoutError:
            raise ControlRefusedError(_late(info, data_dir, timeout)) from None
        except OSError as exc:  # a refusal may be answered before the request is read: read it anyway
            sent = exc
        try:
            line = _read_line(sock)
        except TimeoutError:
            raise ControlRefusedError(_late(info, data_dir, timeout)) from None
        except OSError as exc:
            line, sent = b"", sent or exc
        if not line and sent is not None:
            raise ControlRefusedError(
                f"the engine (PID {info.pid}) dropped the connection: {sent.strerror or sent}"
            ) from None
    if not line:
        raise ControlRefusedError(f"the engine (PID {info.pid}) closed the connection without answering")
    return decode_response(line)


def command(data_dir: Path, req: Request, *, timeout_s: float | None = None) -> dict[str, object]:
    """Like :func:`request`, but a refusal is raised as :class:`ControlRefusedError`; returns the status."""
    response = request(data_dir, req, timeout_s=timeout_s)
    if not response.ok or response.status is None:
        raise ControlRefusedError(f"the engine refused {req.command}: {response.error}")
    return dict(response.status)


def _read_line(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        newline = chunk.find(b"\n")
        if newline >= 0:
            chunks.append(chunk[: newline + 1])
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_LINE:
            raise ControlProtocolError(f"the engine's answer exceeds {MAX_LINE} bytes")


def _check_socket_owner(path: Path) -> None:
    """Refuse a socket another user owns: its status and confirmations would be theirs to forge."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return  # connect() reports it as no engine
    except OSError as exc:
        raise ControlRefusedError(f"cannot inspect the control socket {path}: {exc.strerror or exc}") from None
    if not stat.S_ISSOCK(info.st_mode):
        raise ControlRefusedError(f"{path} is not a socket; the lock file points somewhere unexpected")
    if info.st_uid != os.geteuid():
        raise ControlRefusedError(f"control socket {path} belongs to uid {info.st_uid}, not to this user")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's: the socket's owner check refuses it
    return True


def _late(info: InstanceInfo, data_dir: Path, timeout: float) -> str:
    return f"the arbtui engine (PID {info.pid}) for {data_dir} did not answer within {timeout:g} s"
