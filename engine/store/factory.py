"""``open_store``: from a ``DATABASE_URL``, a path or a resolved location to an open, migrated store.

The one place that chooses an implementation, so callers hold only the :class:`~engine.store.base.Store`
Protocol: a ``postgresql://`` URL opens :class:`~engine.store.postgres.PostgresStore` behind the fail-closed
wrapper (a server can go away; the engine must halt and queue, not crash), anything else a SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from engine.store.base import Store
from engine.store.failclosed import FailClosedStore
from engine.store.location import StoreLocation, resolve_location
from engine.store.sqlite import SqliteStore


async def open_store(target: str | Path | StoreLocation | None, env: Mapping[str, str] | None = None) -> Store:
    """Open the store ``target`` names: a ``sqlite:///`` or ``postgresql://`` URL (None or "": the user's data
    directory, see :mod:`engine.store.location`), a file path, or a resolved :class:`StoreLocation`.

    Raises :class:`~engine.store.base.StoreError` (one line) for an unsupported URL, an unreadable or
    corrupt file, an unreachable or refusing server, or a schema newer than this code.
    """
    if isinstance(target, StoreLocation):
        location = target
    elif isinstance(target, Path):
        location = StoreLocation(target, "path")
    else:
        location = resolve_location(target, os.environ if env is None else env)
    if location.is_server:
        from engine.store.postgres import PostgresStore  # asyncpg only when a server is configured

        return FailClosedStore(await PostgresStore.open(location.url))
    return await SqliteStore.open(location.path)
