"""An intent is committed before ``record_intent`` returns: a process SIGKILLed right after still has it."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
from pathlib import Path

import pytest
from store_records import intent

from engine.execution.model import AuditKind, OrderState
from engine.store import DuplicateOrderError, open_store

CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from store_records import intent
    from engine.store import open_store

    async def main() -> None:
        store = await open_store(sys.argv[1])
        await store.record_intent(intent(sys.argv[2]))
        print("recorded", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint, no atexit: as if the machine lost power

    asyncio.run(main())
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
async def test_record_intent_survives_a_sigkill_right_after_it_returns(tmp_path: Path) -> None:
    db = tmp_path / "arbtui.db"
    tests_dir = Path(__file__).resolve().parents[1]
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        str(db),
        "crash-1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tests_dir,
        env={"PYTHONPATH": str(tests_dir), "PATH": ""},
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=60)
    assert child.returncode == -signal.SIGKILL, err.decode()
    assert out.decode().strip() == "recorded"

    store = await open_store(db)
    try:
        [order] = await store.orders()
        assert order.intent == intent("crash-1")
        assert order.state is OrderState.NEW
        assert [e.data["client_order_id"] for e in await store.audit(kinds=[AuditKind.ORDER])] == ["crash-1"]
        with pytest.raises(DuplicateOrderError):
            await store.record_intent(intent("crash-1"))
    finally:
        await store.close()
