"""Versioned migrations: applied once, in order, each atomically; a newer or corrupt file is one clear error."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from store_records import intent

from engine.store import StoreError, open_store
from engine.store.migrations import MIGRATIONS, Migration
from engine.store.sqlite import SqliteStore

V2 = Migration(2, "notes", ("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",))


def versions(db: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(db)
    try:
        return [(int(v), str(n)) for v, n in conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1")]
    finally:
        conn.close()


async def test_a_fresh_file_gets_every_migration_once_and_reopening_applies_none(tmp_path: Path) -> None:
    db = tmp_path / "arbtui.db"
    for _ in range(3):
        store = await SqliteStore.open(db)
        assert await store.schema_version() == len(MIGRATIONS)
        await store.close()
    assert versions(db) == [(m.version, m.name) for m in MIGRATIONS]


async def test_a_new_migration_is_applied_on_top_and_keeps_the_data(tmp_path: Path) -> None:
    db = tmp_path / "arbtui.db"
    store = await SqliteStore.open(db)
    recorded = await store.record_intent(intent("c1"))
    await store.close()

    store = await SqliteStore.open(db, (*MIGRATIONS, V2))
    try:
        assert await store.schema_version() == 2
        assert await store.order("c1") == recorded
    finally:
        await store.close()
    store = await SqliteStore.open(db, (*MIGRATIONS, V2))
    await store.close()
    assert [v for v, _ in versions(db)] == [1, 2]


async def test_a_failing_migration_leaves_the_previous_version_and_no_half_applied_schema(tmp_path: Path) -> None:
    db = tmp_path / "arbtui.db"
    broken = Migration(2, "broken", ("CREATE TABLE half (id INTEGER)", "CREATE TABLE orders (id INTEGER)"))
    with pytest.raises(StoreError, match=r"cannot open the store .*table orders already exists"):
        await SqliteStore.open(db, (*MIGRATIONS, broken))
    assert [v for v, _ in versions(db)] == [1]
    conn = sqlite3.connect(db)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    assert "half" not in tables


async def test_a_file_from_a_newer_arbtui_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "arbtui.db"
    await (await SqliteStore.open(db, (*MIGRATIONS, V2))).close()
    with pytest.raises(StoreError, match="schema version 2, written by a newer arbtui \\(this one knows up to 1\\)"):
        await open_store(db)
    assert [v for v, _ in versions(db)] == [1, 2]


async def test_migrations_must_be_numbered_without_gaps(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=re.escape("numbered 1..n without gaps")):
        await SqliteStore.open(tmp_path / "a.db", (*MIGRATIONS, Migration(3, "gap", ())))


async def test_a_file_that_is_not_a_database_is_one_clear_error_and_is_not_overwritten(tmp_path: Path) -> None:
    db = tmp_path / "arbtui.db"
    garbage = b"this is a text file, not SQLite " * 200
    db.write_bytes(garbage)
    with pytest.raises(StoreError, match=f"cannot open the store {db}: file is not a database"):
        await open_store(db)
    assert db.read_bytes() == garbage


async def test_a_directory_in_place_of_the_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the store"):
        await open_store(tmp_path)
