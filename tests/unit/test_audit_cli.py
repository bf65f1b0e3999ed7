"""``arbtui audit`` over a store the test fills through the real store API."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from store_records import T0, TICKER, advanced, fill, intent, settlement

from arbtui.cli import main
from arbtui.commands.audit import parse_since
from engine.execution.model import AuditEvent, AuditKind, Mode, OrderState
from engine.store import open_store

OTHER = "KXNBAGAME-26NOV26LALBOS-LAL"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


async def fill_store(db: Path, base: datetime = T0) -> None:
    """A signal acted on, the breaker's yes, the order through its states, a fill, a settlement, a halt."""
    at = lambda s: base + timedelta(seconds=s)  # noqa: E731
    store = await open_store(db)
    try:
        await store.append_audit(
            AuditEvent(
                at(0),
                AuditKind.SIGNAL,
                TICKER,
                {"edge": Decimal("0.031"), "book": [["0.41", 120]], "fair": "0.452", "quotes": {"fanduel": -150}},
            )
        )
        await store.append_audit(
            AuditEvent(at(0), AuditKind.DECISION, TICKER, {"allowed": True, "rule": "", "detail": "all rules pass"})
        )
        rec = await store.record_intent(intent("c1", seconds=0.5, base=base))
        rec = advanced(rec, OrderState.SENT, 1, base=base)
        await store.update_order(rec)
        await store.record_fill(fill("f1", seconds=2, base=base))
        await store.update_order(advanced(rec, OrderState.FILLED, 3, base=base, filled_count=10))
        await store.append_audit(
            AuditEvent(
                at(4),
                AuditKind.DECISION,
                OTHER,
                {"allowed": False, "rule": "daily_loss", "detail": "daily_loss 96.40 + 7.10 at risk > 100.00"},
            )
        )
        await store.record_profile_change("AGGRESSIVE", {"min_edge": "0.02"}, at(5))
        await store.record_settlement(settlement(value="0.50", base=base))
        await store.append_audit(AuditEvent(at(3601), AuditKind.HALT, None, {"reason": "operator"}))
    finally:
        await store.close()


def audit_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["audit", "--json", *args]) == 0
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines()]


def test_json_is_one_object_per_line_with_the_fields_each_kind_promises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "store.db"
    asyncio.run(fill_store(db))
    rows = audit_json(capsys, "--db", str(db))
    assert [r["kind"] for r in rows] == [
        "signal",
        "decision",
        "order",
        "order_state",
        "fill",
        "order_state",
        "decision",
        "profile",
        "settlement",
        "halt",
    ]
    for row in rows:
        assert datetime.fromisoformat(row["ts"]).utcoffset() == timedelta(0)
        assert row["ts"].endswith("Z")
    assert rows[0]["ts"] == "2026-11-25T18:00:00.000000Z"
    assert rows[0]["book"] == [["0.41", 120]] and rows[0]["edge"] == "0.031"
    order = rows[2]
    assert {k: order[k] for k in ("ticker", "client_order_id", "side", "action", "count", "limit_price", "mode")} == {
        "ticker": TICKER,
        "client_order_id": "c1",
        "side": "yes",
        "action": "buy",
        "count": 10,
        "limit_price": "0.42",
        "mode": "paper",
    }
    rejected = rows[6]
    assert (rejected["ticker"], rejected["allowed"], rejected["rule"]) == (OTHER, False, "daily_loss")
    assert rejected["detail"] == "daily_loss 96.40 + 7.10 at risk > 100.00"
    assert {k: rows[4][k] for k in ("client_order_id", "count", "price", "fee")} == {
        "client_order_id": "c1",
        "count": 4,
        "price": "0.41",
        "fee": "0.07",
    }
    assert (rows[3]["state"], rows[5]["state"], rows[5]["previous"]) == ("sent", "filled", "sent")
    assert rows[7]["profile"] == "AGGRESSIVE" and "ticker" not in rows[7]
    assert "ticker" not in rows[9] and rows[9]["reason"] == "operator"


def test_market_kind_and_since_filters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "store.db"
    asyncio.run(fill_store(db))
    assert [r["kind"] for r in audit_json(capsys, "--db", str(db), "--market", OTHER)] == ["decision"]
    only = audit_json(capsys, "--db", str(db), "--kind", "fill", "--kind", "halt")
    assert [r["kind"] for r in only] == ["fill", "halt"]
    later = audit_json(capsys, "--db", str(db), "--since", "2026-11-25T13:00:03-05:00")
    assert [r["kind"] for r in later] == ["order_state", "decision", "profile", "settlement", "halt"]
    naive_is_utc = audit_json(capsys, "--db", str(db), "--since", "2026-11-25T19:00:00")
    assert [r["kind"] for r in naive_is_utc] == ["settlement", "halt"]


def test_since_as_an_age_counts_back_from_now(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "store.db"
    asyncio.run(fill_store(db, base=datetime.now(UTC) - timedelta(days=3)))
    assert audit_json(capsys, "--db", str(db), "--since", "2d") == []
    assert len(audit_json(capsys, "--db", str(db), "--since", "4d")) == 10


def test_parse_since_forms() -> None:
    now = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    assert parse_since("90m", now) == now - timedelta(minutes=90)
    assert parse_since("1w", now) == now - timedelta(weeks=1)
    assert parse_since("2026-11-20", now) == datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_since("2026-11-20T10:00:00Z", now) == datetime(2026, 11, 20, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="neither an ISO 8601 time nor an age"):
        parse_since("yesterday", now)


def test_text_output_names_the_decision_and_the_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "store.db"
    asyncio.run(fill_store(db))
    assert main(["audit", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("2026-11-25 18:00:00.000Z  signal")
    assert "REJECTED daily_loss: daily_loss 96.40 + 7.10 at risk > 100.00" in lines[6]
    assert "c1 buy 10 yes @ 0.42 ioc paper" in lines[2]
    assert "c1 sent -> filled filled 10" in lines[5]
    assert "c1 buy 4 yes @ 0.41 fee 0.07" in lines[4]


def test_the_store_is_found_from_database_url_then_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    default = tmp_path / "xdg" / "arbtui" / "arbtui.db"
    asyncio.run(fill_store(default))
    assert len(audit_json(capsys)) == 10
    elsewhere = tmp_path / "elsewhere.db"
    asyncio.run(fill_store(elsewhere, base=T0 + timedelta(days=1)))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{elsewhere.name}")
    assert audit_json(capsys)[0]["ts"].startswith("2026-11-26")
    assert audit_json(capsys, "--db", str(default))[0]["ts"].startswith("2026-11-25")


def test_a_missing_store_is_one_line_and_nothing_is_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--json"]) == 1
    err = capsys.readouterr().err
    expected = tmp_path / "xdg" / "arbtui" / "arbtui.db"
    assert (
        err
        == f"arbtui audit: error: no store at {expected} (from user data directory); nothing has been recorded there\n"
    )
    assert not expected.exists()
    assert main(["audit", "--db", str(tmp_path / "nope.db")]) == 1
    assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "nope.db").exists()


def test_an_unsupported_database_url_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@127.0.0.1/arbtui")
    assert main(["audit"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "arbtui audit: error: DATABASE_URL must be sqlite:///PATH or postgresql://USER@HOST/DB (got the 'mysql' scheme)"
    ]


def test_a_bad_since_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["audit", "--since", "last tuesday"])
    assert info.value.code == 2
    assert "neither an ISO 8601 time nor an age" in capsys.readouterr().err


def test_an_empty_store_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "store.db"

    async def create() -> None:
        await (await open_store(db)).close()

    asyncio.run(create())
    assert main(["audit", "--db", str(db)]) == 0
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == f"audit: no events in {db}\n"


def test_a_corrupt_store_is_one_line_without_a_traceback_and_is_left_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    garbage = b"\x00garbage, not SQLite\n" * 100
    db.write_bytes(garbage)
    done = subprocess.run(
        [sys.executable, "-m", "arbtui.cli", "audit", "--json", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [f"arbtui audit: error: cannot open the store {db}: file is not a database"]
    assert db.read_bytes() == garbage


def test_paper_and_live_orders_are_told_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "store.db"

    async def orders() -> None:
        store = await open_store(db)
        try:
            await store.record_intent(intent("p1"))
            await store.record_intent(replace(intent("l1", seconds=1), mode=Mode.LIVE))
        finally:
            await store.close()

    asyncio.run(orders())
    assert [(r["client_order_id"], r["mode"]) for r in audit_json(capsys, "--db", str(db))] == [
        ("p1", "paper"),
        ("l1", "live"),
    ]
