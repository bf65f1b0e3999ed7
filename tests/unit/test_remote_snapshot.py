"""The dashboard snapshot crosses the control socket exactly: what ``arbtui attach`` shows is the value the
engine built, with every Decimal keeping its digits (``0.4200`` stays ``0.4200``, never a float), every
time its microseconds, every tuple its order.

Three layers: a hand-built snapshot with every pane filled and every optional field both empty and set;
any snapshot hypothesis can build from the annotations; and a real ``RemoteEngine`` reading it from a real
``ControlServer`` over a Unix socket, with commands, refusals and an engine that goes away.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
import types
import typing
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from control_kit import StateEngine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ArbError
from engine.runtime.control import ControlServer, claim_instance
from engine.runtime.control_client import NoEngineError
from engine.runtime.control_protocol import (
    MAX_DASHBOARD_LINE,
    ControlProtocolError,
    Request,
    Response,
    decode_response,
    encode_request,
    encode_response,
)
from engine.runtime.dashboard import (
    ActivityLine,
    BookQuote,
    DashboardSnapshot,
    FeedLine,
    FillRow,
    HedgeLine,
    LadderLevel,
    LimitLine,
    OrderRow,
    PositionRow,
    Rejection,
    ShardLine,
    SignalDetail,
    SignalRow,
)
from engine.runtime.remote import RemoteEngine, RemoteEngineError, RemoteRefusedError

NOW = datetime(2026, 12, 1, 15, 0, 0, 123456, tzinfo=UTC)


def exact(value: object) -> object:
    """``value`` as nested plain data that tells apart what ``==`` does not: ``Decimal("0.42")`` from
    ``Decimal("0.4200")``, a tuple from a list, a float from an int, a time zone from none."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, {f.name: exact(getattr(value, f.name)) for f in dataclasses.fields(value)})
    if isinstance(value, tuple | list):
        return (type(value).__name__, [exact(v) for v in value])
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), value.utcoffset())
    return (type(value).__name__, value)


def through_the_wire(snap: DashboardSnapshot) -> DashboardSnapshot:
    """Engine side: ``to_json`` into the control answer's bytes; viewer side: those bytes back to a snapshot."""
    line = encode_response(Response(True, status={"mode": snap.mode}, dashboard=snap.to_json()))
    response = decode_response(line, limit=MAX_DASHBOARD_LINE)
    assert response.ok and response.dashboard is not None
    return DashboardSnapshot.from_json(response.dashboard)


def full_snapshot() -> DashboardSnapshot:
    """Every pane populated, with the values that break sloppy codecs: trailing zeros, negative money,
    sub-cent fees, a None beside a value, microsecond times, float probabilities with all their digits."""
    key = "edge|KXNBAGAME-26DEC01LALBOS-LAL|yes"
    arb_key = "arb|KXNHLGAME-26DEC01TORMTL-TOR|no"
    return DashboardSnapshot(
        ts=NOW,
        mode="PAPER",
        demo=True,
        profile="STANDARD",
        breaker_state="REDUCING",
        breaker_reason="daily loss at 80%",
        limits=(
            LimitLine("daily_loss", Decimal("250.00"), Decimal("200.0000")),
            LimitLine("daily_trades", Decimal("100"), Decimal("7")),
        ),
        rejections=(
            Rejection(NOW - timedelta(seconds=3), "KXNBAGAME-26DEC01LALBOS-LAL", "book_age", "book 9.5 s old"),
        ),
        shards=(ShardLine(0, Decimal("10000.00"), Decimal("9871.2345")), ShardLine(1, Decimal("500.00"), None)),
        realised=Decimal("-12.3400"),
        unrealised=Decimal("0.0700"),
        fees=Decimal("0.0035"),
        today=Decimal("-12.27"),
        feeds=(
            FeedLine("kalshi_ws", "connected", 0.25),
            FeedLine("odds_api", "degraded", None, "429 from /v4/sports", credits_left=19_480, burn_per_hour=52.5),
        ),
        lag_p50_ms=0.412,
        lag_p99_ms=7.0000001,
        signals=(
            SignalRow(
                key,
                "edge",
                "NBA",
                "LAL @ BOS",
                "KXNBAGAME-26DEC01LALBOS-LAL",
                "Lakers win",
                "yes",
                0.5312345678901234,
                Decimal("0.4200"),
                Decimal("0.067890"),
                3,
                12,
                Decimal("0.81468"),
                4.5,
            ),
            SignalRow(
                arb_key,
                "arb",
                "NHL",
                "TOR @ MTL",
                "KXNHLGAME-26DEC01TORMTL-TOR",
                "Maple Leafs win",
                "no",
                None,
                Decimal("0.3100"),
                Decimal("0.012000"),
                2,
                40,
                Decimal("0.48"),
                61.0,
                gone=True,
            ),
        ),
        positions=(
            PositionRow(
                "KXNBAGAME-26DEC01LALBOS-LAL",
                "KXNBAGAME-26DEC01LALBOS",
                "NBA",
                "yes",
                12,
                Decimal("0.4200"),
                Decimal("0.45"),
                Decimal("0.36"),
                Decimal("0.21"),
                Decimal("0"),
            ),
            PositionRow(
                "KXNHLGAME-26DEC01TORMTL-TOR",
                "KXNHLGAME-26DEC01TORMTL",
                "NHL",
                "no",
                3,
                None,
                None,
                None,
                Decimal("0.02"),
                Decimal("-1.10"),
                legged=True,
            ),
        ),
        orders=(
            OrderRow("arb-000001", NOW, "KXNBAGAME-26DEC01LALBOS-LAL", "yes", 12, Decimal("0.4300"), "filled", 12),
            OrderRow(
                "arb-000002",
                NOW,
                "KXNHLGAME-26DEC01TORMTL-TOR",
                "no",
                3,
                Decimal("0.31"),
                "rejected",
                0,
                "market closed",
            ),
        ),
        fills=(FillRow("f-1", NOW, "KXNBAGAME-26DEC01LALBOS-LAL", "yes", 12, Decimal("0.4200"), Decimal("0.2100")),),
        activity=(ActivityLine(NOW, "breaker", "breaker active -> reducing: daily loss at 80%"),),
        resting_orders=2,
        fills_total=31,
        markets_mapped=1998,
    )


def full_details() -> tuple[SignalDetail, SignalDetail]:
    """Two signals' consensus panes, with the same codec traps: an ``edge`` with books, ladder and audit
    trail, an ``arb`` with a hedge and no consensus."""
    key = "edge|KXNBAGAME-26DEC01LALBOS-LAL|yes"
    arb_key = "arb|KXNHLGAME-26DEC01TORMTL-TOR|no"
    return (
        SignalDetail(
            key,
            "KXNBAGAME-26DEC01LALBOS-LAL",
            "yes",
            0.5312345678901234,
            3,
            quotes=(
                BookQuote("draftkings", "Los Angeles Lakers", Decimal("-115"), 0.5221, 12.5, False, True),
                BookQuote("fanduel", "Los Angeles Lakers", None, None, None, True, False),
            ),
            yes_asks=(
                LadderLevel(Decimal("0.4200"), Decimal("5.00"), True),
                LadderLevel(Decimal("0.43"), Decimal("100")),
            ),
            no_asks=(LadderLevel(Decimal("0.5900"), Decimal("12.50")),),
            count=12,
            limit_price=Decimal("0.4300"),
            cost=Decimal("5.0400"),
            fees=Decimal("0.2100"),
            edge_history=(0.01, 0.0234, 0.067890),
            audit=("15:00:00 signal edge first seen", "15:00:01 order PAPER buy 12 YES -> filled"),
        ),
        SignalDetail(
            arb_key,
            "KXNHLGAME-26DEC01TORMTL-TOR",
            "no",
            None,
            2,
            hedges=(
                HedgeLine(
                    "betmgm",
                    "Toronto Maple Leafs",
                    Decimal("-1.5"),
                    Decimal("+145"),
                    Decimal("2.4500"),
                    Decimal("16.326531"),
                ),
            ),
        ),
    )


def test_a_full_snapshot_round_trips_exactly() -> None:
    snap = full_snapshot()
    back = through_the_wire(snap)
    assert back == snap
    assert exact(back) == exact(snap)
    assert str(back.signals[0].ask) == "0.4200" and isinstance(back.signals[0].ask, Decimal)
    assert "details" not in snap.to_json()  # rows only: each signal's detail is asked for apart


def detail_through_the_wire(detail: SignalDetail) -> SignalDetail:
    """A ``detail`` answer's bytes and back, as the engine sends it and the viewer reads it."""
    line = encode_response(Response(True, status={"mode": "PAPER"}, detail=detail.to_json()))
    response = decode_response(line)
    assert response.ok and response.detail is not None and response.dashboard is None
    return SignalDetail.from_json(response.detail)


def test_a_signal_detail_round_trips_exactly() -> None:
    for detail in full_details():
        back = detail_through_the_wire(detail)
        assert exact(back) == exact(detail)
    edge, arb = (detail_through_the_wire(d) for d in full_details())
    assert edge.yes_asks[0].taken and str(edge.yes_asks[0].price) == "0.4200" and edge.edge_history[-1] == 0.06789
    assert arb.hedges[0].american == Decimal("145") and arb.consensus is None


def test_a_malformed_signal_detail_is_refused_naming_the_field() -> None:
    doc = full_details()[0].to_json()
    doc["yes_asks"][0]["price"] = 0.42
    with pytest.raises(ArbError, match=r"detail\.yes_asks\[0\]\.price"):
        SignalDetail.from_json(doc)
    with pytest.raises(ControlProtocolError, match="'detail' must be an object"):
        decode_response(b'{"version": 1, "ok": true, "status": {}, "detail": [1]}\n')


def test_money_never_travels_as_a_float() -> None:
    doc = full_snapshot().to_json()
    assert doc["realised"] == "-12.3400" and doc["signals"][0]["ask"] == "0.4200"
    assert doc["limits"][0] == {"name": "daily_loss", "limit": "250.00", "used": "200.0000"}
    doc["signals"][0]["ask"] = 0.42
    with pytest.raises(ArbError, match=r"signals\[0\]\.ask"):
        DashboardSnapshot.from_json(doc)


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("mode",), None, "mode"),
        (("ts",), "yesterday", "ts"),
        (("fills",), {"f-1": 1}, "fills"),
        (("resting_orders",), "2", "resting_orders"),
        (("demo",), 1, "demo"),
    ],
)
def test_a_malformed_dashboard_is_refused_naming_the_field(path: tuple[str, ...], value: object, where: str) -> None:
    doc = full_snapshot().to_json()
    doc[path[0]] = value
    with pytest.raises(ArbError, match=where):
        DashboardSnapshot.from_json(doc)
    del doc[path[0]]
    if path[0] in ("mode", "ts", "fills"):
        with pytest.raises(ArbError, match=where):
            DashboardSnapshot.from_json(doc)


def test_a_dashboard_larger_than_its_limit_is_refused_in_one_line() -> None:
    big = {"activity": ["x" * 1024] * (MAX_DASHBOARD_LINE // 1024 + 1)}
    with pytest.raises(ControlProtocolError, match="exceeds"):
        encode_response(Response(True, status={}, dashboard=big))


# -- any snapshot -----------------------------------------------------------------------------------------


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for a value of annotation ``tp``, as the engine would build one (finite money with the
    places Kalshi uses, aware UTC times, finite floats)."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return st.one_of(*(strategy_for(a) for a in typing.get_args(tp)))
    if origin is tuple:
        return st.lists(strategy_for(typing.get_args(tp)[0]), max_size=3).map(tuple)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return st.builds(tp, **{f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(tp)})
    simple: dict[Any, st.SearchStrategy[Any]] = {
        type(None): st.none(),
        str: st.text(max_size=12),
        bool: st.booleans(),
        int: st.integers(-(10**12), 10**12),
        float: st.floats(allow_nan=False, allow_infinity=False),
        Decimal: st.integers(0, 6).flatmap(
            lambda places: st.decimals(-(10**7), 10**7, places=places, allow_nan=False, allow_infinity=False)
        ),
        datetime: st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    }
    return simple[tp]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategy_for(DashboardSnapshot))
def test_any_snapshot_round_trips_exactly(snap: DashboardSnapshot) -> None:
    assert exact(through_the_wire(snap)) == exact(snap)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategy_for(SignalDetail))
def test_any_signal_detail_round_trips_exactly(detail: SignalDetail) -> None:
    assert exact(detail_through_the_wire(detail)) == exact(detail)


# -- a real RemoteEngine over a real socket ---------------------------------------------------------------


class DashboardEngine(StateEngine):
    """The control kit's engine, plus the dashboard snapshot it would show (its breaker state in it)."""

    def __init__(self) -> None:
        super().__init__()
        self.dashboards = 0
        self.detail_asks: list[str] = []
        self.detail_gate: asyncio.Event | None = None
        """When set, a detail request waits on it (a slow engine)."""

    async def signal_detail(self, key: str) -> SignalDetail | None:
        self.detail_asks.append(key)
        if self.detail_gate is not None:
            await self.detail_gate.wait()
        return next((d for d in full_details() if d.key == key), None)

    async def dashboard(self) -> DashboardSnapshot:
        self.dashboards += 1
        base = full_snapshot()
        return dataclasses.replace(
            base, breaker_state=self.state.upper(), breaker_reason=self.reason, profile=self.profile
        )


@pytest.fixture
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="arbrm"))  # a Unix socket path must fit in 107 bytes
    (path / "rt").mkdir(mode=0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def engine() -> DashboardEngine:
    return DashboardEngine()


@pytest.fixture
async def served(base: Path, engine: DashboardEngine) -> AsyncIterator[ControlServer]:
    lock = claim_instance(base / "data", {"XDG_RUNTIME_DIR": str(base / "rt")}, NOW)
    server = ControlServer(engine, lock.info.socket_path)
    await server.start()
    try:
        yield server
    finally:
        await server.close()
        lock.release()


async def test_remote_engine_reads_the_exact_snapshot_and_sends_commands(
    base: Path, engine: DashboardEngine, served: ControlServer
) -> None:
    async with RemoteEngine(base / "data") as remote:
        first = await remote.dashboard()
        assert exact(first) == exact(dataclasses.replace(full_snapshot(), breaker_state="ACTIVE", breaker_reason=""))
        assert remote.snapshot().to_json()["breaker"]["state"] == "active"

        await remote.halt("operator pressed h")
        assert engine.calls == ["halt:operator pressed h"]
        assert remote.snapshot().to_json()["breaker"]["state"] == "halted"
        assert (await remote.dashboard()).breaker_state == "HALTED"

        await remote.set_profile("aggressive")
        assert (await remote.dashboard()).profile == "AGGRESSIVE"
        await remote.kill("operator pressed K")
        await remote.resume()
        assert engine.calls[-2:] == ["kill:operator pressed K", "resume"]
        assert remote.snapshot().to_json()["orders"]["open"] == 0


async def test_concurrent_asks_share_one_request(base: Path, engine: DashboardEngine, served: ControlServer) -> None:
    async with RemoteEngine(base / "data") as remote:
        before = engine.dashboards
        results = await asyncio.gather(*(remote.dashboard() for _ in range(5)))
        assert engine.dashboards == before + 1
        assert all(r is results[0] for r in results)


async def test_the_engines_refusal_reaches_the_viewer_as_is(
    base: Path, engine: DashboardEngine, served: ControlServer
) -> None:
    async with RemoteEngine(base / "data") as remote:
        engine.fail_with = ArbError("unknown profile 'FAST'; known: CONSERVATIVE, STANDARD")
        with pytest.raises(RemoteRefusedError, match=r"^unknown profile 'FAST'; known: CONSERVATIVE, STANDARD$"):
            await remote.set_profile("FAST")
        assert (await remote.dashboard()).profile == "STANDARD"  # the connection is still usable


async def test_a_broken_dashboard_is_one_line_and_the_next_ask_recovers(
    base: Path, engine: DashboardEngine, served: ControlServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with RemoteEngine(base / "data") as remote:
        good = engine.dashboard

        async def broken() -> DashboardSnapshot:
            return dataclasses.replace(await good(), lag_p99_ms=float("nan"))

        monkeypatch.setattr(engine, "dashboard", broken)
        with pytest.raises(RemoteRefusedError, match="cannot be sent as JSON"):
            await remote.dashboard()
        monkeypatch.setattr(engine, "dashboard", good)
        assert (await remote.dashboard()).markets_mapped == 1998


async def test_a_kept_connection_the_engine_closed_is_reopened(
    base: Path, engine: DashboardEngine, served: ControlServer
) -> None:
    async with RemoteEngine(base / "data") as remote:
        for task in list(served._handlers):  # the server drops every connection, as its idle timeout does
            task.cancel()
        await asyncio.sleep(0.05)
        assert (await remote.dashboard()).mode == "PAPER"


async def test_no_engine_and_a_stopped_engine_are_one_line(base: Path, engine: DashboardEngine) -> None:
    with pytest.raises(NoEngineError, match="no arbtui engine is running"):
        await RemoteEngine(base / "data").start()

    lock = claim_instance(base / "data", {"XDG_RUNTIME_DIR": str(base / "rt")}, NOW)
    server = ControlServer(engine, lock.info.socket_path)
    await server.start()
    remote = RemoteEngine(base / "data")
    try:
        await remote.start()
        await server.close()  # the engine stops listening; its process (this one) lives on
        with pytest.raises(RemoteEngineError, match=r"engine \(PID \d+\) .* is not answering|closed the connection"):
            await remote.dashboard()
        with pytest.raises(RemoteEngineError, match="not answering"):
            await remote.halt("h")
    finally:
        await remote.close()
        await server.close()
        lock.release()
    with pytest.raises(NoEngineError):
        await remote.dashboard()


async def test_remote_engine_reads_one_signal_s_exact_detail(
    base: Path, engine: DashboardEngine, served: ControlServer
) -> None:
    async with RemoteEngine(base / "data") as remote:
        edge, arb = full_details()
        assert exact(await remote.signal_detail(arb.key)) == exact(arb)
        assert exact(await remote.signal_detail(edge.key)) == exact(edge)
        assert await remote.signal_detail("edge|KXNOTLIVE-1|yes") is None  # gone: no detail, not an error
        assert remote.snapshot().to_json()["breaker"]["state"] == "active"
        assert engine.detail_asks == [arb.key, edge.key, "edge|KXNOTLIVE-1|yes"]


async def test_a_detail_never_waits_behind_a_snapshot_nor_a_halt_behind_a_detail(
    base: Path, engine: DashboardEngine, served: ControlServer
) -> None:
    async with RemoteEngine(base / "data") as remote:
        engine.detail_gate = asyncio.Event()
        slow = asyncio.ensure_future(remote.signal_detail(full_details()[0].key))
        while not engine.detail_asks:
            await asyncio.sleep(0.01)
        assert (await remote.dashboard()).profile == "STANDARD"  # the snapshot's connection is free
        await remote.halt("operator pressed h")
        assert engine.calls == ["halt:operator pressed h"] and not slow.done()
        engine.detail_gate.set()
        assert (await slow) == full_details()[0]


async def test_a_caller_that_gives_up_leaves_no_stale_answer_on_the_connection(
    base: Path, engine: DashboardEngine, served: ControlServer
) -> None:
    async with RemoteEngine(base / "data") as remote:
        edge, arb = full_details()
        engine.detail_gate = asyncio.Event()
        first = asyncio.ensure_future(remote.signal_detail(edge.key))
        while not engine.detail_asks:
            await asyncio.sleep(0.01)
        first.cancel()  # the operator moved on: the app asks for the newer selection
        second = asyncio.ensure_future(remote.signal_detail(arb.key))
        engine.detail_gate.set()
        assert exact(await second) == exact(arb)  # the edge's answer was read by its own request, not this one
        assert first.cancelled()
        assert engine.detail_asks == [edge.key, arb.key]


def test_a_detail_request_needs_its_key() -> None:
    with pytest.raises(ControlProtocolError, match="detail: argument 'key' must be a non-empty string"):
        encode_request(Request("detail"))
