"""Rows to QuestDB through the official ``questdb`` client's :class:`questdb.Sender`, ILP over HTTP.

The sender batches by itself: it flushes when ``auto_flush_rows`` rows are buffered or, on the next row,
when ``auto_flush_interval`` has passed (the writer thread flushes a quiet buffer after the same interval).
Each HTTP request is bounded by ``request_timeout`` and retried for at most ``retry_timeout``, so a dead
server costs the writer thread seconds, never the event loop anything.

The text protocol (ILP version 1) is chosen unless ``QUESTDB_CONF`` names another: our columns are integers,
doubles, booleans, strings and timestamps, which version 1 carries exactly (money is an integer of
millionths), it needs no ``/settings`` round trip at start, and every QuestDB since 7.3 accepts it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.errors import ArbError
from engine.timeseries.rows import Row
from engine.timeseries.writer import RowRefusedError

DEFAULT_AUTO_FLUSH_ROWS = 10_000
DEFAULT_AUTO_FLUSH_INTERVAL_MS = 1_000


class TimeSeriesConfigError(ArbError):
    """``QUESTDB_CONF`` cannot be used (not ILP over HTTP, or malformed)."""


def conf_keys(conf: str) -> tuple[str, dict[str, str]]:
    """``http::addr=host:9000;auto_flush_rows=100;`` -> ``("http", {"addr": ..., ...})``; refuses anything
    but ILP over HTTP(S), naming the variable."""
    text = conf.strip()
    scheme, sep, rest = text.partition("::")
    if not sep or scheme not in {"http", "https"}:
        raise TimeSeriesConfigError(
            f"QUESTDB_CONF must be an ILP-over-HTTP client conf like 'http::addr=127.0.0.1:9000;', got {conf!r}"
        )
    params: dict[str, str] = {}
    for part in rest.split(";"):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise TimeSeriesConfigError(f"QUESTDB_CONF has a malformed parameter {part!r} (expected key=value)")
        params[key.strip()] = value
    if "addr" not in params:
        raise TimeSeriesConfigError("QUESTDB_CONF lacks addr=HOST:PORT")
    return scheme, params


def http_base_url(conf: str) -> str:
    """The server's HTTP root (``http://host:9000``) for ``/exec`` queries, from the same conf string."""
    scheme, params = conf_keys(conf)
    return f"{scheme}://{params['addr']}"


class QuestDbBackend:
    """:class:`~engine.timeseries.writer.Backend` over one ``questdb.Sender`` (used on the writer thread)."""

    def __init__(
        self,
        conf: str,
        *,
        auto_flush_rows: int = DEFAULT_AUTO_FLUSH_ROWS,
        auto_flush_interval_ms: int = DEFAULT_AUTO_FLUSH_INTERVAL_MS,
        request_timeout_ms: int = 5_000,
        retry_timeout_ms: int = 2_000,
    ) -> None:
        _, params = conf_keys(conf)  # refuse a bad conf at construction, before any thread starts
        self.conf = conf
        defaults: dict[str, Any] = {
            "protocol_version": 1,
            "auto_flush_rows": auto_flush_rows,
            "auto_flush_interval": auto_flush_interval_ms,
            "request_timeout": request_timeout_ms,
            "retry_timeout": retry_timeout_ms,
        }
        self.options = {k: v for k, v in defaults.items() if k not in params}
        """What the conf string leaves open (the client refuses a parameter given twice)."""
        self._sender: Any = None
        self._pending = 0

    def open(self) -> None:
        from questdb import Sender  # the compiled client is loaded only when QuestDB is configured

        sender = Sender.from_conf(self.conf, **self.options)
        sender.establish()  # type: ignore[no-untyped-call]
        self._sender = sender

    @property
    def auto_flush_interval(self) -> timedelta | None:
        return None if self._sender is None else self._sender.auto_flush_interval

    def add(self, row: Row) -> None:
        from questdb import QuestDBError

        sender = self._sender
        before = len(sender)
        self._pending += 1
        try:
            sender.row(
                row.table,
                symbols=dict(row.symbols),
                columns={k: v for k, v in row.columns.items() if v is not None},
                at=row.ts,
            )
        except (QuestDBError, ValueError, TypeError, OverflowError) as exc:
            if len(sender) == before and _is_row_error(exc):
                self._pending -= 1
                raise RowRefusedError(f"{row.table}: {exc}") from exc
            raise
        if len(sender) == 0:
            self._pending = 0

    def flush(self) -> None:
        if self._sender is not None and self._pending:
            self._sender.flush()
        self._pending = 0

    def pending(self) -> int:
        return self._pending

    def discard(self) -> int:
        lost, self._pending = self._pending, 0
        return lost

    def close(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.close(flush=False)  # the writer flushed what it could; a dead server must not hold us


def _is_row_error(exc: BaseException) -> bool:
    """An error about this row's data (its names, its values), as opposed to sending the buffer."""
    if not hasattr(exc, "code"):
        return True  # ValueError, TypeError, OverflowError: a value the client cannot encode
    name = getattr(exc.code, "name", "")
    return name in {"InvalidName", "InvalidUtf8", "InvalidTimestamp", "ArrayError", "DecimalError", "InvalidApiCall"}
