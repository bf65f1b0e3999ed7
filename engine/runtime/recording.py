"""Record the engine's inputs to a file, and read them back for a replay.

What is recorded is exactly what the pipeline consumes, each with the instant it was consumed: the market
universe (raw ``/series`` and ``/markets`` objects), each Odds API response (raw events), each book change
(the whole book after it, or "stale"), lifecycle changes of markets on the board, the periodic
re-evaluation ticks, operator commands, and what the breaker's data trips read: each ``ticker`` message
(best bid/ask as the ticker channel reported it), each market-data message's arrival (with the books it
changed by a delta) and each data check (connected or not, since when). Without the last three a replay
could never reproduce a trip on data age or on a book disagreeing with the ticker channel. A new market list
or profile is recorded when it took effect (the live engine builds it off the loop). Replaying the file
through the same pipeline, with the clock pinned to each recorded instant, gives the same signals and the
same paper fills, so a day can be re-run after a change and two runs compared line by line.

One JSON object per line; the first line is a header with the format version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from engine.errors import ArbError
from engine.markets.kalshi import Level, Orderbook

FORMAT_VERSION = 2
READS = frozenset({1, 2})
"""Version 1 lacks the ticker, message and check lines: it replays, without the data trips."""
KINDS = frozenset(
    {"universe", "odds", "book", "tick", "market", "profile", "halt", "kill", "resume", "ticker", "message", "check"}
)


class RecordingError(ArbError):
    """A recording that cannot be read (missing, not this format, a bad line); names file and line."""


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def book_doc(book: Orderbook | None) -> dict[str, Any]:
    if book is None:
        return {"stale": True}
    return {
        "yes": [[str(lv.price), str(lv.count)] for lv in book.yes_bids],
        "no": [[str(lv.price), str(lv.count)] for lv in book.no_bids],
    }


def book_from(ticker: str, doc: dict[str, Any]) -> Orderbook | None:
    if doc.get("stale"):
        return None
    return Orderbook(
        ticker,
        tuple(Level(Decimal(p), Decimal(c)) for p, c in doc.get("yes", ())),
        tuple(Level(Decimal(p), Decimal(c)) for p, c in doc.get("no", ())),
    )


def price_doc(price: Decimal | None) -> str | None:
    return None if price is None else str(price)


def price_from(value: object, name: str) -> Decimal | None:
    """A recorded price (a decimal string in dollars, or null); ValueError names the field."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a decimal string or null")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} {value!r} is not a decimal") from None


def time_from(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 timestamp or null")
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 timestamp") from None
    if ts.tzinfo is None:
        raise ValueError(f"{name} {value!r} has no time zone")
    return ts


def _check_fields(kind: str, doc: dict[str, Any]) -> None:
    """The fields the replay reads without further checks, checked at load (so a replay never starts on a
    file that would stop half-way)."""
    if kind == "ticker":
        if not isinstance(doc.get("ticker"), str):
            raise ValueError("a ticker line needs its 'ticker'")
        price_from(doc.get("yes_bid"), "yes_bid")
        price_from(doc.get("yes_ask"), "yes_ask")
    elif kind == "message":
        streamed = doc.get("streamed", [])
        if not isinstance(streamed, list) or not all(isinstance(t, str) for t in streamed):
            raise ValueError("a message line's 'streamed' must be a list of tickers")
    elif kind == "check":
        if not isinstance(doc.get("connected"), bool):
            raise ValueError("a check line needs 'connected' true or false")
        time_from(doc.get("since"), "since")


class Recorder:
    """Appends inputs to ``path`` (created or truncated). Lines are flushed at least every ``flush_every``."""

    def __init__(self, path: str | Path, header: dict[str, Any], flush_every: int = 200) -> None:
        self.path = Path(path)
        try:
            self._file: IO[str] = self.path.open("w", encoding="utf-8")
        except OSError as exc:
            raise RecordingError(f"cannot write recording {self.path}: {exc.strerror or exc}") from None
        self._pending = 0
        self._flush_every = flush_every
        self.lines = 0
        self._write({"kind": "header", "version": FORMAT_VERSION, **header})

    def _write(self, doc: dict[str, Any]) -> None:
        self._file.write(json.dumps(doc, separators=(",", ":")) + "\n")
        self.lines += 1
        self._pending += 1
        if self._pending >= self._flush_every:
            self.flush()

    def record(self, kind: str, ts: datetime, **data: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown recording kind {kind!r}")
        self._write({"t": iso(ts), "kind": kind, **data})

    def flush(self) -> None:
        self._file.flush()
        self._pending = 0

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            self._file.close()


@dataclass(frozen=True, slots=True)
class Entry:
    ts: datetime
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Recording:
    header: dict[str, Any]
    entries: Sequence[Entry]


def _line_error(path: Path, number: int, problem: str) -> RecordingError:
    return RecordingError(f"recording {path} line {number}: {problem}")


def _entries(path: Path, lines: Iterator[str]) -> Iterator[Entry]:
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _line_error(path, number, f"not JSON ({exc.msg})") from None
        if not isinstance(doc, dict) or doc.get("kind") not in KINDS or not isinstance(doc.get("t"), str):
            raise _line_error(path, number, "expected an object with a known 'kind' and a 't' timestamp")
        try:
            ts = datetime.fromisoformat(doc.pop("t").replace("Z", "+00:00"))
        except ValueError:
            raise _line_error(path, number, "'t' is not an ISO 8601 timestamp") from None
        if ts.tzinfo is None:
            raise _line_error(path, number, "'t' has no time zone")
        kind = doc.pop("kind")
        try:
            _check_fields(kind, doc)
        except ValueError as exc:
            raise _line_error(path, number, str(exc)) from None
        yield Entry(ts, kind, doc)


def load_recording(path: str | Path) -> Recording:
    """The whole recording, checked line by line before anything is replayed."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordingError(f"recording {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(f"recording {p} cannot be read: {exc}") from None
    lines = iter(text.splitlines())
    first = next(lines, "")
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("kind") != "header":
        raise RecordingError(f"recording {p} is not an arbtui recording (no header line)")
    if header.get("version") not in READS:
        raise RecordingError(f"recording {p} has format version {header.get('version')!r}; this build reads "
                             f"versions {', '.join(str(v) for v in sorted(READS))}")  # fmt: skip
    return Recording(header, list(_entries(p, lines)))
