"""Where the store lives: ``DATABASE_URL`` when set, else a file in the user's data directory.

``postgresql://`` (or ``postgres://``) names a PostgreSQL database: ``url`` keeps it whole for connecting and
``path`` shows it without its password, so nothing that prints a location can leak the secret.

Pure over the environment mapping it is given, so the same rules serve the engine, the CLI and the tests.
``sqlite:///relative.db`` is relative to the working directory and ``sqlite:////abs/path.db`` absolute (the
convention SQLAlchemy and most tools use); a bare path is taken as a SQLite file; ``~`` is expanded. Unset, the file is
``$XDG_DATA_HOME/arbtui/arbtui.db`` (XDG base directory spec), falling back to ``~/.local/share/arbtui``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from engine.store.base import StoreError

SQLITE_PREFIX = "sqlite:///"
MEMORY = ":memory:"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """A resolved store: ``path`` is a SQLite file (or ``:memory:``), ``source`` says where it came from.

    For a database server ``url`` is the URL to connect with and ``path`` the same URL without its password.
    """

    path: Path | str
    source: str
    url: str = ""

    @property
    def is_server(self) -> bool:
        """A PostgreSQL database rather than a file: no path to check, no directory to create."""
        return bool(self.url)

    @property
    def in_memory(self) -> bool:
        return self.path == MEMORY


def default_data_path(env: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/arbtui/arbtui.db``; a relative XDG_DATA_HOME is ignored, as the spec requires."""
    xdg = env.get("XDG_DATA_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "arbtui" / "arbtui.db"
    home = env.get("HOME", "")
    if not home:
        raise StoreError("cannot place the store: HOME and XDG_DATA_HOME are unset; set DATABASE_URL=sqlite:///PATH")
    return Path(home) / ".local" / "share" / "arbtui" / "arbtui.db"


def sqlite_path(url: str, env: Mapping[str, str]) -> Path | str:
    """The file a ``sqlite:///`` URL names (``~`` expanded against ``env``'s HOME)."""
    rest = url[len(SQLITE_PREFIX) :]
    if "?" in rest or "#" in rest:
        raise StoreError(f"DATABASE_URL {url!r}: query options are not supported; give only the file path")
    if not rest:
        raise StoreError(f"DATABASE_URL {url!r} names no file; use sqlite:///PATH")
    if rest == MEMORY:
        return MEMORY
    if rest == "~" or rest.startswith("~/"):
        home = env.get("HOME", "")
        if not home:
            raise StoreError(f"DATABASE_URL {url!r} starts with ~ but HOME is unset")
        return Path(home) / rest[2:]
    return Path(rest)


def resolve_location(database_url: str | None, env: Mapping[str, str]) -> StoreLocation:
    """Where the store is for this ``DATABASE_URL`` or bare file path (None or empty: the user's data
    directory)."""
    url = (database_url or "").strip()
    if not url:
        return StoreLocation(default_data_path(env), "user data directory")
    if url.startswith(SQLITE_PREFIX):
        return StoreLocation(sqlite_path(url, env), "DATABASE_URL")
    if "://" not in url:
        return StoreLocation(sqlite_path(SQLITE_PREFIX + url, env), "DATABASE_URL")
    if url.startswith(POSTGRES_SCHEMES):
        return StoreLocation(redact_url(url), "DATABASE_URL", url)
    if url.startswith("sqlite:"):
        raise StoreError(f"DATABASE_URL {url!r}: a SQLite URL has three slashes before the path, sqlite:///PATH")
    raise StoreError(
        f"DATABASE_URL must be sqlite:///PATH or postgresql://USER@HOST/DB (got the {url.split(':', 1)[0]!r} scheme)"
    )


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port is not None else "")
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return url.split("://", 1)[0] + "://***"
