"""``arbtui schema``: bring the databases to this version's schema, on purpose and before the engine starts.

The store (``DATABASE_URL``: PostgreSQL, or the SQLite file) gets every migration it lacks, each in its own
transaction; a second run changes nothing and says so; a database written by a newer arbtui is refused with
both versions named and left untouched. With ``QUESTDB_CONF`` set, the time-series tables are created in
QuestDB too (``CREATE TABLE IF NOT EXISTS``: a re-run is harmless).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from engine.config.settings import settings_for_command
from engine.store.base import StoreError
from engine.store.location import StoreLocation, resolve_location
from engine.store.migrations import SchemaReport
from engine.store.schema import apply_schema


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "schema",
        help="apply the database migrations (and create the QuestDB tables when configured)",
        description="Migrate the store DATABASE_URL names (PostgreSQL or the SQLite file) to this version's "
        "schema. Idempotent: a second run changes nothing. A database newer than this arbtui is refused. With "
        "QUESTDB_CONF set, also creates the time-series tables in QuestDB.",
    )
    parser.add_argument("--db", metavar="URL", help="the store to migrate (default: DATABASE_URL)")
    parser.add_argument("--env-file", help="settings file to read; must exist (default: ./.env if present)")
    parser.set_defaults(func=run)


def describe(location: StoreLocation, report: SchemaReport) -> str:
    """One line: what was applied, or that nothing needed to be."""
    where = f"{'PostgreSQL' if location.is_server else 'SQLite'} {location.path}"
    if not report.changed:
        return f"schema: {where} is already at version {report.after}; nothing to change"
    names = "; ".join(f"{m.version} {m.name}" for m in report.applied)
    return f"schema: {where} migrated from version {report.before} to {report.after} (applied {names})"


def run(args: argparse.Namespace) -> int:
    settings = settings_for_command(args.env_file)
    if args.db is not None and not args.db.strip():
        raise StoreError("--db is empty; give a sqlite:/// or postgresql:// URL or a file path")
    location = resolve_location(args.db if args.db is not None else settings.database_url, os.environ)
    report = asyncio.run(apply_schema(location))
    print(describe(location, report))
    if settings.questdb_conf:
        from engine.timeseries.history import create_questdb_tables  # the time-series side owns its tables

        tables = asyncio.run(create_questdb_tables(settings.questdb_conf))
        print(f"schema: QuestDB tables present: {', '.join(tables)}")
    return 0
