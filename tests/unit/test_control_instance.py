"""One engine per data directory: the lock, its refusal naming the first engine's PID, stale-lock takeover,
and where the lock and the control socket live."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.runtime.control import ControlError, ensure_private_directory, runtime_directory, socket_path
from engine.runtime.instance import (
    LOCK_NAME,
    AlreadyRunningError,
    InstanceError,
    InstanceLock,
    data_directory,
    read_instance,
)
from engine.store.base import StoreError

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    return int(done.stdout)


def test_a_second_lock_is_refused_with_the_first_pid(tmp_path: Path) -> None:
    with InstanceLock.acquire(tmp_path / "d", socket_path=tmp_path / "s.sock", now=NOW) as first:
        assert first.info.pid == os.getpid()
        assert read_instance(tmp_path / "d") == first.info
        with pytest.raises(AlreadyRunningError) as info:
            InstanceLock.acquire(tmp_path / "d", socket_path=tmp_path / "other.sock", now=NOW)
        assert info.value.pid == os.getpid()
        assert f"already running for {tmp_path / 'd'} (PID {os.getpid()})" in str(info.value)
        assert read_instance(tmp_path / "d") == first.info  # the refused attempt changed nothing
    assert (tmp_path / "d" / LOCK_NAME).read_bytes() == b""
    assert read_instance(tmp_path / "d") is None
    with InstanceLock.acquire(tmp_path / "d", socket_path=tmp_path / "s.sock", now=NOW) as again:
        assert again.previous_pid is None


def test_another_process_holding_the_lock_is_named(tmp_path: Path) -> None:
    holder = textwrap.dedent(
        f"""
        import sys
        from datetime import UTC, datetime
        from pathlib import Path
        from engine.runtime.instance import InstanceLock
        lock = InstanceLock.acquire(Path({str(tmp_path / "d")!r}), socket_path=Path("/x.sock"), now=datetime.now(UTC))
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        try:
            assert proc.stdout.readline().strip() == "locked"
            with pytest.raises(AlreadyRunningError, match=f"PID {proc.pid}"):
                InstanceLock.acquire(tmp_path / "d", socket_path=tmp_path / "s.sock", now=NOW)
        finally:
            proc.stdin.close()
            proc.wait(10)
    with InstanceLock.acquire(tmp_path / "d", socket_path=tmp_path / "s.sock", now=NOW) as after:
        assert after.previous_pid == proc.pid  # it exited without releasing: its lock was taken over


def test_a_stale_lock_from_a_dead_pid_is_taken_over(tmp_path: Path) -> None:
    pid = dead_pid()
    stale = InstanceLock.acquire(tmp_path, socket_path=tmp_path / "old.sock", now=NOW, pid=pid)
    os.close(stale._fd)  # type: ignore[arg-type]  # the process died: the kernel dropped its lock, the file stays
    stale._fd = None
    assert read_instance(tmp_path) is not None and read_instance(tmp_path).pid == pid  # type: ignore[union-attr]
    with InstanceLock.acquire(tmp_path, socket_path=tmp_path / "new.sock", now=NOW) as lock:
        assert lock.previous_pid == pid
        assert read_instance(tmp_path) == lock.info


def test_a_lock_file_of_another_program_is_an_error_not_a_guess(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text("not ours")
    with pytest.raises(InstanceError, match="is not what an arbtui engine writes"):
        read_instance(tmp_path)
    with InstanceLock.acquire(tmp_path, socket_path=tmp_path / "s.sock", now=NOW) as lock:  # nobody holds it
        assert lock.previous_pid is None


def test_the_data_directory_is_created_private(tmp_path: Path) -> None:
    with InstanceLock.acquire(tmp_path / "a" / "b", socket_path=tmp_path / "s.sock", now=NOW):
        assert stat.S_IMODE(os.stat(tmp_path / "a" / "b").st_mode) == 0o700
        assert stat.S_IMODE(os.stat(tmp_path / "a" / "b" / LOCK_NAME).st_mode) == 0o600


def test_a_data_directory_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(InstanceError, match="cannot create the data directory"):
        InstanceLock.acquire(tmp_path / "file" / "d", socket_path=tmp_path / "s.sock", now=NOW)


def test_data_directory_follows_the_store() -> None:
    env = {"HOME": "/home/op"}
    assert data_directory(None, env) == Path("/home/op/.local/share/arbtui")
    assert data_directory(None, {**env, "XDG_DATA_HOME": "/xdg"}) == Path("/xdg/arbtui")
    assert data_directory("sqlite:////srv/arb/trades.db", env) == Path("/srv/arb")
    assert data_directory("sqlite:///~/arb/x.db", env) == Path("/home/op/arb")
    assert data_directory("sqlite:///:memory:", env) == Path("/home/op/.local/share/arbtui")
    assert data_directory("sqlite:///rel/x.db", env) == Path(os.path.abspath("rel"))
    # a database server keeps the engine's lock (and its control socket) in the default data directory
    assert data_directory("postgresql://h/db", env) == Path("/home/op/.local/share/arbtui")
    with pytest.raises(StoreError):
        data_directory("mysql://h/db", env)


def test_socket_lives_in_the_runtime_directory_else_under_the_data_directory(tmp_path: Path) -> None:
    data = Path("/srv/arb")
    assert runtime_directory(data, {"XDG_RUNTIME_DIR": str(tmp_path)}) == tmp_path / "arbtui"
    assert runtime_directory(data, {}) == data / "run"
    assert runtime_directory(data, {"XDG_RUNTIME_DIR": "relative"}) == data / "run"
    assert runtime_directory(data, {"XDG_RUNTIME_DIR": str(tmp_path / "missing")}) == data / "run"
    one = socket_path(data, {})
    assert one.parent == data / "run" and one.name.startswith("control-") and one.suffix == ".sock"
    assert socket_path(Path("/srv/other"), {}) != one
    assert socket_path(data, {}) == one


def test_a_socket_path_too_long_to_bind_is_refused_with_the_fix() -> None:
    with pytest.raises(ControlError, match="longer than 107 bytes; set XDG_RUNTIME_DIR"):
        socket_path(Path("/" + "d" * 120), {})


def test_private_directory_is_created_0700_and_a_loose_one_is_tightened(tmp_path: Path) -> None:
    ensure_private_directory(tmp_path / "new")
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o700
    (tmp_path / "loose").mkdir(mode=0o777)
    os.chmod(tmp_path / "loose", 0o777)
    ensure_private_directory(tmp_path / "loose")
    assert stat.S_IMODE(os.stat(tmp_path / "loose").st_mode) == 0o700


def test_a_symlink_in_place_of_the_private_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(ControlError, match="is not a directory"):
        ensure_private_directory(tmp_path / "link")
