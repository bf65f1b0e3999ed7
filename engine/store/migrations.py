"""The schema as numbered migrations, applied in order on open and recorded in ``schema_migrations``.

A migration runs once, inside one transaction with its version row, so a crash mid-migration leaves the
previous version intact. The SQL is the portable subset (TEXT, INTEGER, ``ON CONFLICT`` upserts) so
SQLite and PostgreSQL follow one numbering; a statement that cannot be portable (an auto-numbered key) has a
PostgreSQL spelling in :attr:`Migration.postgres`. Money is decimal text and timestamps fixed-width UTC text
in both, so one codec reads both and a record round-trips to the same bytes whichever store holds it.
Never edit a released migration: add the next one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    postgres: tuple[str, ...] | None = None
    """The same change in PostgreSQL's dialect, when ``statements`` is not portable (None: it is)."""

    def statements_for(self, dialect: str) -> tuple[str, ...]:
        """``"sqlite"`` or ``"postgresql"``."""
        if dialect == "postgresql" and self.postgres is not None:
            return self.postgres
        return self.statements


@dataclass(frozen=True, slots=True)
class SchemaReport:
    """What a migration run did: the version found, the version left, and the migrations applied."""

    before: int
    after: int
    applied: tuple[Migration, ...]

    @property
    def changed(self) -> bool:
        return bool(self.applied)


SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""

_AUDIT_TABLE = """
    CREATE TABLE audit_events (
        {id},
        ts TEXT NOT NULL,
        kind TEXT NOT NULL,
        ticker TEXT,
        data TEXT NOT NULL
    )
    """

_V1 = (
    """
    CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY,
        ticker TEXT NOT NULL,
        event_ticker TEXT NOT NULL,
        league TEXT NOT NULL,
        side TEXT NOT NULL,
        action TEXT NOT NULL,
        count INTEGER NOT NULL,
        limit_price TEXT NOT NULL,
        time_in_force TEXT NOT NULL,
        mode TEXT NOT NULL,
        created_at TEXT NOT NULL,
        signal_key TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        group_id TEXT,
        exchange_index INTEGER NOT NULL,
        reduce_only INTEGER NOT NULL,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        exchange_order_id TEXT,
        filled_count INTEGER NOT NULL,
        filled_cost TEXT NOT NULL,
        fees TEXT NOT NULL,
        reason TEXT NOT NULL
    )
    """,
    "CREATE INDEX orders_by_ticker ON orders (ticker)",
    "CREATE INDEX orders_by_state ON orders (state)",
    """
    CREATE TABLE fills (
        fill_id TEXT PRIMARY KEY,
        client_order_id TEXT NOT NULL,
        ticker TEXT NOT NULL,
        side TEXT NOT NULL,
        action TEXT NOT NULL,
        count INTEGER NOT NULL,
        price TEXT NOT NULL,
        fee TEXT NOT NULL,
        ts TEXT NOT NULL,
        mode TEXT NOT NULL,
        is_taker INTEGER NOT NULL
    )
    """,
    "CREATE INDEX fills_by_ts ON fills (ts)",
    "CREATE INDEX fills_by_ticker ON fills (ticker)",
    "CREATE INDEX fills_by_order ON fills (client_order_id)",
    """
    CREATE TABLE settlements (
        ticker TEXT PRIMARY KEY,
        event_ticker TEXT NOT NULL,
        value TEXT NOT NULL,
        ts TEXT NOT NULL,
        revenue TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE breaker_state (
        id INTEGER PRIMARY KEY,
        doc TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    _AUDIT_TABLE.format(id="id INTEGER PRIMARY KEY"),
    "CREATE INDEX audit_by_ts ON audit_events (ts)",
    "CREATE INDEX audit_by_ticker ON audit_events (ticker, ts)",
)
_V1_POSTGRES = tuple(
    _AUDIT_TABLE.format(id="id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY") if "audit_events (\n" in stmt else stmt
    for stmt in _V1
)
"""SQLite numbers an ``INTEGER PRIMARY KEY`` itself; PostgreSQL needs an identity column for the same."""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "orders, fills, settlements, breaker state, audit log", _V1, _V1_POSTGRES),
)
