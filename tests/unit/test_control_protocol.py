"""The control wire format: round trips, versions, and every malformed message refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

import pytest

from engine.runtime.control_protocol import (
    MAX_LINE,
    PROTOCOL_VERSION,
    ControlProtocolError,
    Request,
    Response,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    to_wire,
)


class Colour(StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    "request_",
    [
        Request("status"),
        Request("halt", {"reason": "news"}),
        Request("kill", {"reason": "feed down"}),
        Request("resume"),
        Request("profile", {"name": "AGGRESSIVE"}),
    ],
)
def test_request_round_trip_is_one_versioned_line(request_: Request) -> None:
    line = encode_request(request_)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line)["version"] == PROTOCOL_VERSION
    assert decode_request(line) == request_


def test_response_round_trip_keeps_money_exact() -> None:
    status = {"pnl": {"realised": Decimal("0.1") + Decimal("0.2")}, "at": datetime(2026, 12, 1, tzinfo=UTC)}
    decoded = decode_response(encode_response(Response(True, status=status)))
    assert decoded.ok
    assert decoded.status == {"pnl": {"realised": "0.3"}, "at": "2026-12-01T00:00:00+00:00"}
    refusal = decode_response(encode_response(Response(False, error="no")))
    assert refusal == Response(False, error="no")


def test_to_wire_converts_what_a_status_may_hold_and_refuses_the_rest() -> None:
    assert to_wire({"a": (1, Colour.RED), "b": frozenset({"y", "x"}), "c": None}) == {
        "a": [1, "red"],
        "b": ["x", "y"],
        "c": None,
    }
    with pytest.raises(ControlProtocolError, match="a object value cannot be sent"):
        to_wire({"x": object()})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"halt\n", "request is not JSON"),
        (b"[1]\n", "must be a JSON object"),
        (b'{"command": "status"}\n', "speaks control protocol None; this side speaks 1"),
        (b'{"version": 2, "command": "status"}\n', "speaks control protocol 2"),
        (b'{"version": "1", "command": "status"}\n', "speaks control protocol '1'"),
        (b'{"version": 1}\n', "field 'command' must be a string"),
        (b'{"version": 1, "command": "reboot"}\n', "unknown control command 'reboot'; known: status, halt"),
        (b'{"version": 1, "command": "status", "args": []}\n', "field 'args' must be an object"),
        (b'{"version": 1, "command": "status", "args": {"x": "1"}}\n', "unexpected argument(s) x"),
        (b'{"version": 1, "command": "halt"}\n', "argument 'reason' must be a non-empty string"),
        (b'{"version": 1, "command": "halt", "args": {"reason": "  "}}\n', "'reason' must be a non-empty"),
        (b'{"version": 1, "command": "profile", "args": {"name": 3}}\n', "'name' must be a non-empty string"),
        (b'{"version": NaN, "command": "status"}\n', "NaN is not a number JSON allows"),
        (b"\xff\xfe\n", "request is not JSON"),
    ],
)
def test_malformed_requests_are_refused_with_the_reason(line: bytes, message: str) -> None:
    with pytest.raises(ControlProtocolError) as info:
        decode_request(line)
    assert message in str(info.value)


def test_oversized_messages_are_refused_both_ways() -> None:
    with pytest.raises(ControlProtocolError, match="exceeds"):
        decode_request(b" " * (MAX_LINE + 1))
    with pytest.raises(ControlProtocolError, match="exceeds"):
        encode_response(Response(True, status={"x": "y" * MAX_LINE}))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"version": 1}\n', "field 'ok' must be true or false"),
        (b'{"version": 1, "ok": false}\n', "non-empty 'error'"),
        (b'{"version": 1, "ok": true, "status": 3}\n', "field 'status' must be an object"),
        (b'{"version": 9, "ok": true, "status": {}}\n', "response speaks control protocol 9"),
    ],
)
def test_malformed_responses_are_refused(line: bytes, message: str) -> None:
    with pytest.raises(ControlProtocolError) as info:
        decode_response(line)
    assert message in str(info.value)


def test_an_encoded_request_is_checked_too() -> None:
    with pytest.raises(ControlProtocolError, match="unknown control command"):
        encode_request(Request("shutdown"))
    with pytest.raises(ControlProtocolError, match="'name' must be a non-empty string"):
        encode_request(Request("profile"))
