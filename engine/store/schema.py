"""Apply the store's migrations and say what changed: the work behind ``arbtui schema``.

Opening a store already migrates it; this module adds the before/after versions so the command can say
"nothing to change" on a second run, and so an operator can migrate a production database on purpose
(``docker compose up -d`` then ``arbtui schema``) before the first engine starts rather than as a side
effect of it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from engine.store.base import StoreError
from engine.store.location import MEMORY, StoreLocation
from engine.store.migrations import MIGRATIONS, SchemaReport


def _sqlite_version(path: Path) -> int:
    """The version of an existing SQLite file (0 for none or an empty file), read without writing."""
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store {path}: {exc}") from None
    try:
        return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise StoreError(f"cannot read the store {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read the store {path}: {exc}") from None
    finally:
        conn.close()


async def apply_schema(location: StoreLocation) -> SchemaReport:
    """Migrate the store ``location`` names to the newest schema; a database newer than this code is refused
    (:class:`StoreError` naming both versions) and left untouched."""
    if location.is_server:
        from engine.store.postgres import PostgresStore

        store = await PostgresStore.open(location.url)
        await store.close()
        return store.report
    if location.path == MEMORY:
        raise StoreError("DATABASE_URL is an in-memory database; there is no schema to keep")
    from engine.store.sqlite import SqliteStore

    path = Path(location.path)
    before = await asyncio.to_thread(_sqlite_version, path)
    sqlite_store = await SqliteStore.open(path)
    try:
        after = await sqlite_store.schema_version()
    finally:
        await sqlite_store.close()
    return SchemaReport(before, after, tuple(m for m in MIGRATIONS if before < m.version <= after))
