"""One engine per data directory: a second ``launch`` against the same store is refused with the first's PID.

Two engines on one store would both trade the same account, each blind to the other's orders, and interleave
their breaker states. The guard is an exclusive ``flock`` on ``arbtui.lock`` in the data directory: the
kernel drops it when the holder dies however it dies, so a lock left by a crashed engine (its PID dead) is
simply taken over, and PID reuse can never keep a dead engine's lock alive. The file also says where the
running engine's control socket is, so ``arbtui status`` finds it from any shell whatever that shell's
``XDG_RUNTIME_DIR`` (a systemd service and an SSH session usually differ).

The lock file is never deleted: removing a flock'd file lets a second process lock a fresh inode while a
third still holds the old one. Released, it is emptied instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from engine.errors import ArbError
from engine.store.location import default_data_path, resolve_location

LOCK_NAME = "arbtui.lock"
_READ_ATTEMPTS = 20
_READ_PAUSE_S = 0.01


class InstanceError(ArbError):
    """The data directory cannot be locked, or its lock file cannot be read."""


class AlreadyRunningError(InstanceError):
    """Another engine holds the data directory; ``pid`` is its process id (None if it could not be read)."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        self.data_dir = data_dir
        self.pid = pid
        who = f"PID {pid}" if pid is not None else "PID unknown"
        super().__init__(f"an arbtui engine is already running for {data_dir} ({who}); stop it first")


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """What the running engine wrote into its lock file."""

    pid: int
    socket_path: Path
    started_at: str

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "socket": str(self.socket_path), "started_at": self.started_at}


def data_directory(database_url: str | None, env: Mapping[str, str]) -> Path:
    """The directory holding the store ``DATABASE_URL`` names (absolute); an in-memory store uses the default
    data directory, so even a throwaway engine is found by ``arbtui status``; so does a database server."""
    location = resolve_location(database_url, env)
    if location.in_memory or location.is_server:
        return default_data_path(env).parent
    path = Path(location.path).expanduser()
    return Path(os.path.abspath(path)).parent


class InstanceLock:
    """The held lock; ``previous_pid`` is the PID a stale lock file named when it was taken over."""

    def __init__(self, data_dir: Path, fd: int, info: InstanceInfo, previous_pid: int | None) -> None:
        self.data_dir = data_dir
        self.info = info
        self.previous_pid = previous_pid
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path, *, socket_path: Path, now: datetime, pid: int | None = None) -> InstanceLock:
        """Lock ``data_dir`` (created 0700 if missing) for this process or raise :class:`AlreadyRunningError`."""
        data_dir = Path(os.path.abspath(data_dir))
        try:
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise InstanceError(f"cannot create the data directory {data_dir}: {exc.strerror or exc}") from None
        path = data_dir / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise InstanceError(f"cannot open the lock file {path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_instance(data_dir)
            raise AlreadyRunningError(data_dir, holder.pid if holder else None) from None
        except OSError as exc:
            os.close(fd)
            raise InstanceError(f"cannot lock {path}: {exc.strerror or exc}") from None
        previous = _parse(_read_fd(fd))
        info = InstanceInfo(os.getpid() if pid is None else pid, Path(socket_path), now.isoformat())
        try:
            _write_fd(fd, json.dumps(info.to_json()).encode())
        except OSError as exc:
            os.close(fd)
            raise InstanceError(f"cannot write the lock file {path}: {exc.strerror or exc}") from None
        return cls(data_dir, fd, info, previous.pid if previous else None)

    def release(self) -> None:
        """Empty the lock file and drop the lock; safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor drops the flock

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def read_instance(data_dir: Path) -> InstanceInfo | None:
    """What the lock file in ``data_dir`` says, or None when it is missing or empty (no engine wrote it).

    Says nothing about whether that engine is still alive: the caller checks (the control client connects).
    A file being rewritten at this instant is read again briefly rather than reported as corrupt.
    """
    path = Path(data_dir) / LOCK_NAME
    for _ in range(_READ_ATTEMPTS):
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InstanceError(f"cannot read the lock file {path}: {exc.strerror or exc}") from None
        if not raw.strip():
            return None
        info = _parse(raw)
        if info is not None:
            return info
        time.sleep(_READ_PAUSE_S)
    raise InstanceError(f"the lock file {path} is not what an arbtui engine writes; is another program using it?")


def _parse(raw: bytes) -> InstanceInfo | None:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict):
        return None
    pid, socket_path, started = doc.get("pid"), doc.get("socket"), doc.get("started_at")
    if type(pid) is not int or pid <= 0 or not isinstance(socket_path, str) or not isinstance(started, str):
        return None
    return InstanceInfo(pid, Path(socket_path), started)


def _read_fd(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_fd(fd: int, data: bytes) -> None:
    # Overwrite, then cut the old tail: a reader never sees an empty file (which means "no engine"), only a
    # mixed one it fails to parse and reads again.
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))
    os.fsync(fd)
