"""Faults an operator meets through the CLI, against real servers on 127.0.0.1: each ends in one line and a
non-zero exit, with nothing spent and nothing half-written. The simulator serves the normal venues; a raw
asyncio server plays the misbehaving ones (a Date header with ``-0000`` or sent twice, an answer trickled one
byte at a time)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import stat
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from arbtui.cli import INTERRUPTED, main
from arbtui.commands import capture as capture_command
from arbtui.commands import doctor
from arbtui.commands.sim import ENV_MARKER

pytestmark = pytest.mark.integration
SETTINGS_PREFIXES = ("KALSHI_", "ODDS_API_", "TRADING_", "PROFILE_", "MAX_", "MIN_", "MAPPING_", "PAPER_", "RISK_")
Handler = Callable[[str, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper().startswith(SETTINGS_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture
def sim(wall_sim: Any) -> Any:
    """The commands sign with the machine's clock, as in production: the simulator runs on it too."""
    return wall_sim


def one_error_line(err: str, *needles: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


async def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main`` in a thread (it runs its own event loop) while this loop keeps serving."""
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "arbtui.cli", *argv]


# -- capture -----------------------------------------------------------------------------------------


@pytest.fixture
def sim_env(sim: Any, tmp_path: Path) -> Path:
    path = tmp_path / "sim.env"
    path.write_text(sim.env_lines() + "\n")
    return path


def unwritable_dir(tmp_path: Path) -> Path:
    """A directory this process cannot create files in (root ignores modes, so then a read-only one)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    for candidate in (locked, Path("/sys")):
        try:
            fd = os.open(candidate / ".probe", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            return candidate
        os.close(fd)
        os.unlink(candidate / ".probe")
    pytest.skip("no directory here refuses this process's writes")


@pytest.mark.parametrize("where", ["missing directory", "a directory", "unwritable directory"])
async def test_capture_checks_out_before_spending_credits(
    sim: Any, sim_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    out = {
        "missing directory": tmp_path / "nope" / "snap.json",
        "a directory": tmp_path,
        "unwritable directory": unwritable_dir(tmp_path) / "snap.json",
    }[where]
    expected = {"missing directory": "does not exist", "a directory": "is a directory", "unwritable directory": ""}
    before = set(tmp_path.iterdir())
    code, stdout, err = await run_main(capsys, "capture", "--env-file", str(sim_env), "--out", str(out))
    assert code == 1 and stdout == ""
    one_error_line(err, "arbtui capture: error: --out", expected[where])
    assert sim.odds.credits_used == 0  # refused before the first request
    assert set(tmp_path.iterdir()) == before


async def test_capture_interrupted_while_writing_leaves_no_file(
    sim: Any, sim_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(tmp: Path, out: Path, doc: object) -> None:
        tmp.write_text('{"as_of": ')  # half of the file is on disk when Ctrl-C arrives
        raise KeyboardInterrupt

    monkeypatch.setattr(capture_command, "_write_atomic", interrupted)
    out = tmp_path / "out" / "snap.json"
    out.parent.mkdir()
    code, stdout, err = await run_main(capsys, "capture", "--env-file", str(sim_env), "--out", str(out), "--no-odds")
    assert code == INTERRUPTED and stdout == ""
    one_error_line(err, "arbtui capture: stopped: interrupted")
    assert list(out.parent.iterdir()) == []


def _sigint_as_a_terminal_sends_it() -> None:
    """The child gets SIGINT as a shell's child does: neither ignored nor blocked, whatever the disposition or
    mask the test process (its threads, its runner) would otherwise pass on to it."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def test_capture_sigint_mid_capture_leaves_no_file(sim: Any, sim_env: Path, tmp_path: Path) -> None:
    # every request takes 2 s, so the capture is certainly mid-request when the signal lands, whatever the
    # board of the hour and however fast the machine (a capture makes several requests)
    sim.faults.latency_s = 2.0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = await asyncio.create_subprocess_exec(
        *cli("capture", "--env-file", str(sim_env), "--out", str(out_dir / "snap.json")),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_sigint_as_a_terminal_sends_it,
    )
    deadline = time.monotonic() + 30
    while not any(p.name.endswith(".tmp") for p in out_dir.iterdir()):  # the output was checked: requests begin
        assert proc.returncode is None and time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == INTERRUPTED, err.decode()
    one_error_line(err.decode(), "arbtui capture: stopped: interrupted")
    assert list(out_dir.iterdir()) == []


# -- doctor against misbehaving servers --------------------------------------------------------------


@contextlib.asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """An HTTP server that writes exactly the bytes ``handler`` chooses; yields its root URL."""
    tasks: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            await handler(head.split(b" ", 2)[1].decode(), writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def venue_answer(path: str, dates: list[str]) -> bytes:
    """What the doctor's three requests need: a balance, an open exchange, an Odds API key with credits."""
    if path.startswith("/trade-api/v2/portfolio/balance"):
        body = b'{"balance": 125000}'
    elif path.startswith("/trade-api/v2/exchange/status"):
        body = b'{"exchange_active": true, "trading_active": true}'
    else:
        body = b"[]"
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"Date: {d}" for d in dates]
    head += ["x-requests-remaining: 480", "x-requests-used: 20"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def doctor_env(tmp_path: Path, url: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pem.chmod(0o600)
    env = tmp_path / "doctor.env"
    env.write_text(
        f"KALSHI_BASE_URL={url}/trade-api/v2\nKALSHI_KEY_ID=key-1\nKALSHI_PRIVATE_KEY_PATH={pem}\n"
        f"ODDS_API_BASE_URL={url}\nODDS_API_KEY=odds-key\n"
    )
    return env


def http_date(zone: str) -> str:
    return format_datetime(datetime.now(UTC)).replace("+0000", zone)


def check_lines(out: str) -> dict[str, str]:
    lines = [line for line in out.splitlines() if not line.startswith("doctor: ")]
    assert [line[7:23].strip() for line in lines] == list(doctor.NAMES), out
    return {line[7:23].strip(): line for line in lines}


async def test_doctor_reads_a_minus_0000_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def handler(path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(venue_answer(path, [http_date("-0000")]))
        await writer.drain()

    async with raw_server(handler) as url:
        code, out, err = await run_main(capsys, "doctor", "--env-file", str(doctor_env(tmp_path, url)))
    assert code == 0 and err == "", out + err
    assert check_lines(out)["clock skew"].startswith("[  ok] clock skew")
    assert out.splitlines()[-1] == "doctor: 6/6 checks passed"


async def test_doctor_with_a_date_sent_twice_prints_every_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def handler(path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(venue_answer(path, [http_date("GMT"), http_date("-0000")]))
        await writer.drain()

    async with raw_server(handler) as url:
        code, out, err = await run_main(capsys, "doctor", "--env-file", str(doctor_env(tmp_path, url)))
    assert code == 1
    lines = check_lines(out)
    assert lines["kalshi auth"].startswith("[  ok]") and lines["odds api"].startswith("[  ok]")
    assert "[FAIL] clock skew" in lines["clock skew"] and "repeated" in lines["clock skew"]
    one_error_line(err, "doctor: 5/6 checks passed")


async def test_doctor_timeout_is_a_deadline_against_a_trickling_server(tmp_path: Path) -> None:
    """One byte every 0.2 s never trips a per-read timeout; the per-request deadline ends each request, each
    check prints as it finishes, and the command ends within its deadline."""

    async def trickle(path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        while True:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.2)

    timeout = 1.0
    async with raw_server(trickle) as url:
        env = doctor_env(tmp_path, url)
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *cli("doctor", "--env-file", str(env), "--timeout", str(timeout)),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        arrived: dict[str, float] = {}
        lines: dict[str, str] = {}
        while line := (await asyncio.wait_for(proc.stdout.readline(), 30)).decode():
            name = line[7:23].strip()
            arrived[name], lines[name] = time.monotonic(), line
        err = (await proc.stderr.read()).decode()
        await proc.wait()
        ended = time.monotonic()
    assert proc.returncode == 1
    assert list(lines) == list(doctor.NAMES)
    for name in ("kalshi auth", "exchange status", "odds api"):
        assert lines[name].startswith(f"[FAIL] {name}") and "no complete answer within 1s" in lines[name]
    assert ended - arrived["kalshi auth"] >= timeout  # printed when it finished, not at the end
    assert ended - started < doctor.command_deadline(timeout) + 5  # interpreter start-up on a busy machine
    one_error_line(err, "doctor: 2/6 checks passed")


# -- sim -----------------------------------------------------------------------------------------------


async def test_sim_with_its_port_in_use_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = await run_main(capsys, "sim", "--kalshi-port", str(port), "--key-dir", str(tmp_path / "k"))
    assert code == 1 and out == ""
    one_error_line(err, "arbtui sim: error: cannot start the simulator:", str(port), "address already in use")


async def test_sim_with_an_unwritable_key_dir_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = await run_main(capsys, "sim", "--key-dir", str(unwritable_dir(tmp_path)))
    assert code == 1 and out == ""
    one_error_line(err, "arbtui sim: error:")


async def test_sim_refuses_to_overwrite_an_env_file_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--env-file .env`` by mistake must not replace the operator's real settings."""
    env = tmp_path / ".env"
    env.write_text("KALSHI_KEY_ID=real-key\n")
    code, out, err = await run_main(capsys, "sim", "--env-file", str(env), "--key-dir", str(tmp_path / "k"))
    assert code == 1 and out == ""
    one_error_line(err, "arbtui sim: error:", "was not written by arbtui sim", "refusing to overwrite")
    assert env.read_text() == "KALSHI_KEY_ID=real-key\n"


async def test_sim_writes_its_env_file_owner_only(tmp_path: Path) -> None:
    env = tmp_path / "sim.env"
    env.write_text(f"{ENV_MARKER}\nOLD=1\n")
    env.chmod(0o644)  # an earlier file of its own, readable by everyone, is replaced, not reused
    proc = await asyncio.create_subprocess_exec(
        *cli("sim", "--markets", "2", "--step-interval", "0", "--env-file", str(env), "--key-dir", str(tmp_path)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        first = await asyncio.wait_for(proc.stdout.readline(), 30)  # printed after the file is written
        assert first.startswith(b"KALSHI_BASE_URL=")
        assert stat.S_IMODE(env.stat().st_mode) == 0o600
        text = env.read_text()
        assert "OLD=1" not in text and "ODDS_API_KEY=" in text and text.endswith("\n")
        assert text.startswith(ENV_MARKER + "\n")
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0 and b"Traceback" not in err
