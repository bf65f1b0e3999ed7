"""The control socket end to end over a real Unix socket: a real server serving a small real engine, the
blocking client the CLI commands use, and the refusals (wrong uid, wrong version, junk, unknown profile)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from control_kit import StateEngine

from engine.runtime.control import ControlServer, claim_instance
from engine.runtime.control_client import ControlRefusedError, NoEngineError, command, request
from engine.runtime.control_protocol import PROTOCOL_VERSION, Request
from engine.runtime.instance import LOCK_NAME, InstanceLock

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def base() -> Iterator[Path]:
    """A short private directory: a Unix socket path must fit in 107 bytes, pytest's tmp_path may not."""
    path = Path(tempfile.mkdtemp(prefix="arbctl"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def env(base: Path) -> dict[str, str]:
    (base / "rt").mkdir(mode=0o700)
    return {"XDG_RUNTIME_DIR": str(base / "rt")}


@pytest.fixture
def engine() -> StateEngine:
    return StateEngine()


@pytest.fixture
async def served(base: Path, env: dict[str, str], engine: StateEngine) -> AsyncIterator[ControlServer]:
    lock = claim_instance(base / "data", env, NOW)
    server = ControlServer(engine, lock.info.socket_path)
    await server.start()
    try:
        yield server
    finally:
        await server.close()
        lock.release()


async def ask(data_dir: Path, req: Request, **kw: float) -> dict[str, object]:
    return await asyncio.to_thread(command, data_dir, req, **kw)


def raw_exchange(path: Path, payload: bytes) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        sock.sendall(payload)
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    doc = json.loads(data)
    assert isinstance(doc, dict)
    return doc


async def test_socket_and_directory_are_owner_only(served: ControlServer, env: dict[str, str]) -> None:
    info = os.lstat(served.path)
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert served.path.parent == Path(env["XDG_RUNTIME_DIR"]) / "arbtui"
    assert stat.S_IMODE(os.lstat(served.path.parent).st_mode) == 0o700


async def test_status_is_the_engine_snapshot_with_money_as_strings(served: ControlServer, base: Path) -> None:
    status = await ask(base / "data", Request("status"))
    assert status["mode"] == "PAPER"
    assert status["profile"] == "STANDARD"
    assert status["positions"] == {"count": 2, "exposure": "12.34"}
    assert status["pnl"] == {"realised": "1.25", "unrealised": "-0.40", "fees": "0.14", "today": "1.25"}
    assert status["breaker"] == {
        "state": "active",
        "reason": "",
        "limits": {"daily_loss": {"limit": "100.00", "used": "12.50"}},
    }


async def test_commands_change_the_engine_and_answer_with_the_new_status(
    served: ControlServer, base: Path, engine: StateEngine
) -> None:
    data = base / "data"
    halted = await ask(data, Request("halt", {"reason": "lunch"}))
    assert halted["breaker"]["state"] == "halted"  # type: ignore[index]
    assert halted["breaker"]["reason"] == "lunch"  # type: ignore[index]
    killed = await ask(data, Request("kill", {"reason": "panic"}))
    assert killed["orders"] == {"open": 0, "unknown": 0}
    profiled = await ask(data, Request("profile", {"name": "aggressive"}))
    assert profiled["profile"] == "AGGRESSIVE"
    resumed = await ask(data, Request("resume"))
    assert resumed["breaker"]["state"] == "active"  # type: ignore[index]
    assert engine.calls == ["halt:lunch", "kill:panic", "profile:aggressive", "resume"]


async def test_unknown_profile_is_refused_with_the_list_and_changes_nothing(
    served: ControlServer, base: Path, engine: StateEngine
) -> None:
    with pytest.raises(
        ControlRefusedError, match=r"unknown trading profile 'YOLO'.*CONSERVATIVE, STANDARD, AGGRESSIVE"
    ):
        await ask(base / "data", Request("profile", {"name": "YOLO"}))
    assert engine.profile == "STANDARD"
    assert (await ask(base / "data", Request("status")))["profile"] == "STANDARD"


async def test_an_engine_exception_is_one_line_and_the_server_goes_on(
    served: ControlServer, base: Path, engine: StateEngine
) -> None:
    engine.fail_with = RuntimeError("exchange unreachable")
    with pytest.raises(ControlRefusedError, match="failed on halt: RuntimeError: exchange unreachable"):
        await ask(base / "data", Request("halt", {"reason": "x"}))
    assert (await ask(base / "data", Request("status")))["mode"] == "PAPER"


async def test_a_status_missing_a_promised_field_is_refused(
    served: ControlServer, base: Path, engine: StateEngine
) -> None:
    engine.drop_field = "loop_lag_ms"
    with pytest.raises(ControlRefusedError, match="lacks field\\(s\\): loop_lag_ms"):
        await ask(base / "data", Request("status"))


async def test_other_uid_is_refused_by_peer_credentials(base: Path, env: dict[str, str], engine: StateEngine) -> None:
    if not hasattr(socket, "SO_PEERCRED"):
        pytest.skip("no SO_PEERCRED on this platform")
    with claim_instance(base / "data", env, NOW) as lock:
        async with ControlServer(engine, lock.info.socket_path, allowed_uid=os.geteuid() + 1) as server:
            response = await asyncio.to_thread(request, base / "data", Request("halt", {"reason": "intruder"}))
            assert not response.ok
            assert f"uid {os.geteuid()} may not control this engine" in response.error
            assert server.refused_peers == 1
    assert engine.calls == []


async def test_junk_and_other_versions_are_answered_with_an_error(served: ControlServer, engine: StateEngine) -> None:
    junk = await asyncio.to_thread(raw_exchange, served.path, b"hello\n")
    assert junk["ok"] is False and "not JSON" in str(junk["error"])
    future = json.dumps({"version": PROTOCOL_VERSION + 1, "command": "halt", "args": {"reason": "x"}})
    answer = await asyncio.to_thread(raw_exchange, served.path, future.encode() + b"\n")
    assert answer["ok"] is False
    assert f"speaks control protocol {PROTOCOL_VERSION + 1}" in str(answer["error"])
    assert answer["version"] == PROTOCOL_VERSION
    assert engine.calls == []


async def test_an_idle_client_does_not_block_others(served: ControlServer, base: Path) -> None:
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        idle.connect(str(served.path))
        idle.sendall(b'{"version": 1, "command": "sta')  # half a request, never finished
        status = await ask(base / "data", Request("status"))
        assert status["profile"] == "STANDARD"
    finally:
        idle.close()


async def test_no_engine_running(base: Path) -> None:
    with pytest.raises(NoEngineError, match=f"no arbtui engine is running for {base / 'data'}"):
        await ask(base / "data", Request("status"))


async def test_lock_left_by_a_dead_engine_means_no_engine(base: Path, env: dict[str, str]) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    pid = int(dead.stdout)
    lock = InstanceLock.acquire(base / "data", socket_path=base / "rt" / "gone.sock", now=NOW, pid=pid)
    try:
        with pytest.raises(NoEngineError):
            await ask(base / "data", Request("status"))
    finally:
        lock.release()


async def test_a_live_lock_whose_socket_is_gone_means_no_engine(base: Path, env: dict[str, str]) -> None:
    with claim_instance(base / "data", env, NOW), pytest.raises(NoEngineError):
        await ask(base / "data", Request("status"))
    assert (base / "data" / LOCK_NAME).read_bytes() == b""


async def test_a_stale_socket_file_is_replaced_and_removed_on_close(
    base: Path, env: dict[str, str], engine: StateEngine
) -> None:
    with claim_instance(base / "data", env, NOW) as lock:
        path = lock.info.socket_path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        leftover.bind(str(path))
        leftover.close()
        async with ControlServer(engine, path):
            assert (await ask(base / "data", Request("status")))["mode"] == "PAPER"
        assert not path.exists()
