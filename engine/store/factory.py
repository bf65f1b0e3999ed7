"""``open_store``: from a ``DATABASE_URL``, a path or a resolved location to an open, migrated store.

The one place that chooses an implementation, so callers hold only the :class:`~engine.store.base.Store`
Protocol and a PostgreSQL store can be added here without touching them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from engine.store.base import Store
from engine.store.location import StoreLocation, resolve_location
from engine.store.sqlite import SqliteStore


async def open_store(target: str | Path | StoreLocation | None, env: Mapping[str, str] | None = None) -> Store:
    """Open the store ``target`` names: a ``sqlite:///`` URL (None or "": the user's data directory, see
    :mod:`engine.store.location`), a file path, or a resolved :class:`StoreLocation`.

    Raises :class:`~engine.store.base.StoreError` (one line) for an unsupported URL, an unreadable or
    corrupt file, or a schema newer than this code.
    """
    if isinstance(target, StoreLocation):
        path: Path | str = target.path
    elif isinstance(target, Path):
        path = target
    else:
        path = resolve_location(target, os.environ if env is None else env).path
    return await SqliteStore.open(path)
