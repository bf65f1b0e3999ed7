"""The time-series tables, as data: QuestDB's ``CREATE TABLE`` statements and the local history's SQLite
tables are both generated from these definitions, so the two stores cannot drift apart.

Money is exact here too. A price, fee, cost or expected value is a ``LONG`` in millionths of a dollar (the
column name ends in ``_e6``: ``0.4200`` dollars is ``420000``); probabilities, edges and contract counts are
``DOUBLE``. Tickers, books, sides and other repeated names are ``SYMBOL`` columns (interned, indexed by
value), one designated timestamp ``ts`` per table, partitions by day. QuestDB's ILP would create tables on
first write with guessed types (a ticker as a string, a count as a double); ``arbtui schema`` creates them
first so every column has the type chosen here.
"""

from __future__ import annotations

from dataclasses import dataclass

SYMBOL = "SYMBOL"
LONG = "LONG"
DOUBLE = "DOUBLE"
BOOLEAN = "BOOLEAN"
VARCHAR = "VARCHAR"
TIMESTAMP = "TIMESTAMP"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """One time-series table. ``symbols`` are written as ILP symbols, ``columns`` as ILP fields."""

    name: str
    doc: str
    symbols: tuple[Column, ...]
    columns: tuple[Column, ...]
    dedup: tuple[str, ...] = ()
    """Columns that, with ``ts``, identify a row: a re-sent row replaces itself instead of doubling."""
    ts: str = "ts"

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return (Column(self.ts, TIMESTAMP, "when the engine saw it (designated timestamp)"), *self.symbols,
                *self.columns)  # fmt: skip


KALSHI_BOOKS = Table(
    "kalshi_books",
    "Every Kalshi book change: best YES bid and ask with their sizes, and the depth on each side.",
    symbols=(Column("ticker", SYMBOL),),
    columns=(
        Column("trusted", BOOLEAN, "false: the book went stale (seq gap, disconnect) and is not priced"),
        Column("yes_bid_e6", LONG, "best YES bid, dollars x 1e6"),
        Column("yes_ask_e6", LONG, "best YES ask (1 - best NO bid), dollars x 1e6"),
        Column("yes_bid_size", DOUBLE, "contracts at the best YES bid"),
        Column("yes_ask_size", DOUBLE, "contracts at the best YES ask"),
        Column("yes_depth", DOUBLE, "contracts bid for YES, all levels"),
        Column("no_depth", DOUBLE, "contracts bid for NO, all levels"),
        Column("yes_levels", LONG),
        Column("no_levels", LONG),
    ),
)

ODDS_QUOTES = Table(
    "odds_quotes",
    "Every sportsbook price in each Odds API response, one row per outcome.",
    symbols=(
        Column("sport", SYMBOL),
        Column("event_id", SYMBOL),
        Column("book", SYMBOL),
        Column("market", SYMBOL, "h2h, spreads, totals"),
        Column("outcome", SYMBOL),
    ),
    columns=(
        Column("american", LONG, "American odds as quoted (absent when only decimal odds were given)"),
        Column("decimal_odds", DOUBLE),
        Column("implied", DOUBLE, "1 / decimal odds, vig included"),
        Column("point", DOUBLE, "the line for spreads and totals"),
        Column("quoted_at", TIMESTAMP, "the book's own last_update for this market"),
    ),
    dedup=("event_id", "book", "market", "outcome"),
)

FAIR_VALUES = Table(
    "fair_values",
    "The fair probability behind each signal: the consensus and each book's vig-free probability.",
    symbols=(
        Column("ticker", SYMBOL),
        Column("side", SYMBOL),
        Column("book", SYMBOL, "a bookmaker key, or 'consensus'"),
    ),
    columns=(Column("prob", DOUBLE),),
    dedup=("ticker", "side", "book"),
)

SIGNALS = Table(
    "signals",
    "Each signal as it appears, changes and goes (live = false): the edge history behind the sparkline.",
    symbols=(
        Column("ticker", SYMBOL),
        Column("kind", SYMBOL),
        Column("side", SYMBOL),
        Column("event_ticker", SYMBOL),
    ),
    columns=(
        Column("live", BOOLEAN),
        Column("edge", DOUBLE),
        Column("margin", DOUBLE),
        Column("fair", DOUBLE),
        Column("books_agree", LONG),
        Column("count", LONG),
        Column("ask_e6", LONG),
        Column("limit_e6", LONG),
        Column("cost_e6", LONG),
        Column("fees_e6", LONG),
        Column("ev_e6", LONG, "expected value, rounded half-even to the millionth (an estimate)"),
    ),
    dedup=("ticker", "kind", "side"),
)

FILLS = Table(
    "fills",
    "Every fill (a copy: the store is the book of record).",
    symbols=(
        Column("ticker", SYMBOL),
        Column("side", SYMBOL),
        Column("action", SYMBOL),
        Column("mode", SYMBOL),
    ),
    columns=(
        Column("fill_id", VARCHAR),
        Column("client_order_id", VARCHAR),
        Column("count", LONG),
        Column("price_e6", LONG),
        Column("fee_e6", LONG),
        Column("taker", BOOLEAN),
    ),
    dedup=("ticker", "fill_id"),
)

TABLES: tuple[Table, ...] = (KALSHI_BOOKS, ODDS_QUOTES, FAIR_VALUES, SIGNALS, FILLS)
TABLES_BY_NAME = {t.name: t for t in TABLES}


def questdb_create(table: Table) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for QuestDB: designated ``ts``, daily partitions, WAL, and DEDUP keys
    where a row has an identity (a re-sent batch after a timeout replaces itself, never doubles)."""
    cols = ",\n".join(f"  {c.name} {c.kind}" for c in table.all_columns)
    dedup = f"\nDEDUP UPSERT KEYS({', '.join((table.ts, *table.dedup))})" if table.dedup else ""
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n{cols}\n) TIMESTAMP({table.ts}) PARTITION BY DAY WAL{dedup};"


def questdb_schema() -> tuple[str, ...]:
    """Every statement ``arbtui schema`` sends to QuestDB, in order; each is idempotent."""
    return tuple(questdb_create(t) for t in TABLES)


_SQLITE_TYPES = {SYMBOL: "TEXT", LONG: "INTEGER", DOUBLE: "REAL", BOOLEAN: "INTEGER", VARCHAR: "TEXT",
                 TIMESTAMP: "INTEGER"}  # fmt: skip


def sqlite_create(table: Table) -> tuple[str, ...]:
    """The same table in the local history (SQLite): timestamps as integer microseconds since the epoch."""
    cols = ", ".join(f"{c.name} {_SQLITE_TYPES[c.kind]}" for c in table.all_columns)
    first = table.symbols[0].name
    return (
        f"CREATE TABLE IF NOT EXISTS {table.name} ({cols})",
        f"CREATE INDEX IF NOT EXISTS {table.name}_{first}_ts ON {table.name} ({first}, {table.ts})",
        f"CREATE INDEX IF NOT EXISTS {table.name}_ts ON {table.name} ({table.ts})",
    )
