"""Where the store file lives: DATABASE_URL when it is sqlite:///..., else the user's data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.store import StoreError, open_store, resolve_location
from engine.store.location import MEMORY

ENV = {"HOME": "/home/op"}


def test_unset_url_is_the_xdg_data_directory_or_the_home_fallback() -> None:
    assert resolve_location(None, {**ENV, "XDG_DATA_HOME": "/data"}).path == Path("/data/arbtui/arbtui.db")
    assert resolve_location("", ENV).path == Path("/home/op/.local/share/arbtui/arbtui.db")
    assert resolve_location("  ", {**ENV, "XDG_DATA_HOME": "relative/dir"}).path == Path(
        "/home/op/.local/share/arbtui/arbtui.db"
    )
    assert resolve_location(None, ENV).source == "user data directory"


def test_sqlite_urls_name_relative_absolute_home_and_memory_paths() -> None:
    assert resolve_location("sqlite:///arbtui.db", ENV).path == Path("arbtui.db")
    assert resolve_location("sqlite:////var/lib/arbtui/a.db", ENV).path == Path("/var/lib/arbtui/a.db")
    assert resolve_location("sqlite:///~/trading/a.db", ENV).path == Path("/home/op/trading/a.db")
    assert resolve_location("/srv/arbtui.db", ENV).path == Path("/srv/arbtui.db")
    assert resolve_location("~/a.db", ENV).path == Path("/home/op/a.db")
    memory = resolve_location("sqlite:///:memory:", ENV)
    assert memory.path == MEMORY
    assert memory.in_memory
    assert memory.source == "DATABASE_URL"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://arbtui.db", "three slashes"),
        ("sqlite:///", "names no file"),
        ("sqlite:///a.db?mode=ro", "query options are not supported"),
        ("mysql://x/y", "must be sqlite:///PATH or postgresql://USER@HOST/DB \\(got the 'mysql' scheme\\)"),
    ],
)
def test_unsupported_urls_are_one_clear_error(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        resolve_location(url, ENV)


def test_no_home_and_no_xdg_asks_for_database_url() -> None:
    with pytest.raises(StoreError, match="set DATABASE_URL"):
        resolve_location(None, {})
    with pytest.raises(StoreError, match="HOME is unset"):
        resolve_location("sqlite:///~/a.db", {})


async def test_open_store_creates_the_data_directory_from_the_environment(tmp_path: Path) -> None:
    store = await open_store(None, {"XDG_DATA_HOME": str(tmp_path / "xdg")})
    try:
        assert await store.orders() == []
    finally:
        await store.close()
    assert (tmp_path / "xdg" / "arbtui" / "arbtui.db").is_file()


async def test_open_store_accepts_an_in_memory_url() -> None:
    store = await open_store("sqlite:///:memory:", {})
    try:
        assert await store.load_breaker() is None
    finally:
        await store.close()
