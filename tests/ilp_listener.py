"""A loopback HTTP server that speaks just enough of QuestDB's ILP-over-HTTP endpoint for the real
``questdb`` client to write to it, and parses every line it receives (InfluxDB line protocol, text form).

It is independent of the production code on purpose: the rows the engine meant to write are checked against
what a server would have stored, column by column. ``fail`` makes it answer 500 (an outage that still
accepts connections); stopping it makes the port refuse them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Line:
    table: str
    symbols: dict[str, str]
    fields: dict[str, Any]
    """Values decoded by suffix: ``i`` -> int, ``t`` -> ("t", micros), quoted -> str, t/f -> bool, else float."""
    ts_ns: int | None
    raw: str


@dataclass
class Received:
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    """(method, path, body bytes) per request."""
    lines: list[Line] = field(default_factory=list)


def _split_unescaped(text: str, sep: str) -> list[str]:
    out, cur, i, quoted = [], [], 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _value(raw: str) -> Any:
    if raw.startswith('"') and raw.endswith('"'):
        return _unescape(raw[1:-1])
    if raw in {"t", "T", "true", "True"}:
        return True
    if raw in {"f", "F", "false", "False"}:
        return False
    if raw.endswith("i"):
        return int(raw[:-1])
    if raw.endswith("t"):
        return ("t", int(raw[:-1]))
    if raw.endswith("n"):
        return ("n", int(raw[:-1]))
    return float(raw)


def parse_line(raw: str) -> Line:
    """One ILP line; raises ValueError on anything malformed (the test fails on it)."""
    parts = _split_unescaped(raw, " ")
    if len(parts) not in (2, 3):
        raise ValueError(f"ILP line has {len(parts)} space-separated parts: {raw!r}")
    head = _split_unescaped(parts[0], ",")
    table = _unescape(head[0])
    symbols: dict[str, str] = {}
    for item in head[1:]:
        k, _, v = item.partition("=")
        symbols[_unescape(k)] = _unescape(v)
    fields: dict[str, Any] = {}
    for item in _split_unescaped(parts[1], ","):
        k, sep, v = item.partition("=")
        if not sep:
            raise ValueError(f"ILP field without '=': {item!r} in {raw!r}")
        fields[_unescape(k)] = _value(v)
    ts = int(parts[2]) if len(parts) == 3 else None
    return Line(table, symbols, fields, ts, raw)


class IlpListener:
    """``with IlpListener() as srv:`` then ``http::addr=127.0.0.1:{srv.port};``."""

    def __init__(self) -> None:
        self.received = Received()
        self.fail = False
        self.lock = threading.Lock()
        self.got_rows = threading.Condition(self.lock)
        listener = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def _answer(self, code: int, body: bytes = b"") -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                if body:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                with listener.lock:
                    listener.received.requests.append(("GET", self.path, 0))
                self._answer(404)

            def do_POST(self) -> None:
                body = self._body()
                if listener.fail:
                    with listener.lock:
                        listener.received.requests.append(("POST", self.path, len(body)))
                    self._answer(500, b'{"code":"internal error","message":"test outage"}')
                    return
                lines = [parse_line(t) for t in body.decode().split("\n") if t]
                with listener.got_rows:
                    listener.received.requests.append(("POST", self.path, len(body)))
                    listener.received.lines.extend(lines)
                    listener.got_rows.notify_all()
                self._answer(204)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="ilp-listener", daemon=True)

    @property
    def conf(self) -> str:
        return f"http::addr=127.0.0.1:{self.port};"

    def wait_lines(self, n: int, timeout_s: float = 10.0) -> list[Line]:
        with self.got_rows:
            self.got_rows.wait_for(lambda: len(self.received.lines) >= n, timeout_s)
            return list(self.received.lines)

    def __enter__(self) -> IlpListener:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
