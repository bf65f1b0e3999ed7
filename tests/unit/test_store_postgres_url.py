"""A PostgreSQL DATABASE_URL: recognised, kept whole for connecting, shown without its password anywhere a
location is printed; the engine's lock stays in the data directory; ``arbtui schema`` says what it did."""

from __future__ import annotations

from pathlib import Path

from arbtui.commands.schema import describe
from engine.runtime.instance import data_directory
from engine.store.location import redact_url, resolve_location
from engine.store.migrations import MIGRATIONS, SchemaReport

ENV = {"HOME": "/home/op"}


def test_a_postgresql_url_is_a_server_location_shown_without_its_password() -> None:
    for scheme in ("postgresql", "postgres"):
        url = f"{scheme}://arb:s3cret@db.internal:5432/arbtui"
        location = resolve_location(url, ENV)
        assert location.is_server and location.url == url
        assert location.path == f"{scheme}://arb:***@db.internal:5432/arbtui"
        assert "s3cret" not in str(location.path)
    assert not resolve_location("sqlite:///a.db", ENV).is_server


def test_redaction_leaves_urls_without_a_password_alone() -> None:
    assert redact_url("postgresql://postgres@127.0.0.1/arbtui") == "postgresql://postgres@127.0.0.1/arbtui"
    assert redact_url("postgresql://u:p@h/d") == "postgresql://u:***@h/d"


def test_the_engine_lock_for_a_server_store_is_in_the_default_data_directory() -> None:
    assert data_directory("postgresql://u:p@h/d", ENV) == Path("/home/op/.local/share/arbtui")


def test_schema_says_what_it_applied_or_that_nothing_changed() -> None:
    location = resolve_location("postgresql://u:p@h/d", ENV)
    applied = describe(location, SchemaReport(0, 1, MIGRATIONS[:1]))
    assert (
        applied
        == f"schema: PostgreSQL postgresql://u:***@h/d migrated from version 0 to 1 (applied 1 {MIGRATIONS[0].name})"
    )
    same = describe(location, SchemaReport(1, 1, ()))
    assert same == "schema: PostgreSQL postgresql://u:***@h/d is already at version 1; nothing to change"
