"""The Odds API client decodes a large response a piece at a time, handing the engine's loop back between
pieces, and gives exactly what ``json.loads`` gives (or refuses exactly what it refuses)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from engine.connectors.odds_api.client import STREAM_DECODE_MIN, decode_json


def _event(i: int) -> dict[str, Any]:
    return {
        "id": f"ev{i:05d}",
        "home_team": "Dallas Cowboys \u00e9",
        "commence_time": "2026-12-01T18:00:00Z",
        "bookmakers": [
            {"key": "draftkings", "markets": [{"key": "h2h", "outcomes": [{"name": "A", "price": -110 - i % 7}]}]}
        ],
        "nested": [[], {}, None, True, 1.5e-3],
    }


LARGE = [_event(i) for i in range(1200)]


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(LARGE).encode(),
        json.dumps(LARGE, indent=2).encode(),  # whitespace between every token
        b"\xef\xbb\xbf" + json.dumps(LARGE).encode(),  # a UTF-8 byte order mark
        b"  [ " + b" " * STREAM_DECODE_MIN + b"]  \n",  # an empty array padded past the threshold
        json.dumps({"message": "x" * STREAM_DECODE_MIN}).encode(),  # a large object: decoded whole
        b'[{"a": 1}]',  # small: decoded whole
    ],
)
async def test_decodes_what_json_loads_decodes(body: bytes) -> None:
    assert await decode_json(body) == json.loads(body.decode("utf-8-sig"))


@pytest.mark.parametrize(
    "tail",
    [b"]", b",]", b"] []", b"}", b",", b"] x"],
)
async def test_refuses_what_json_loads_refuses(tail: bytes) -> None:
    body = json.dumps(LARGE).encode()[:-1] + tail
    if tail == b"]":
        body = body[:-1]  # the array left open
    with pytest.raises(ValueError):
        json.loads(body)
    with pytest.raises(ValueError):
        await decode_json(body)


async def test_a_large_array_hands_the_loop_back_while_it_decodes() -> None:
    body = json.dumps(LARGE).encode()
    ticks = 0
    done = False

    async def other() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    await asyncio.sleep(0)
    ticks = 0
    try:
        doc = await decode_json(body, turn_s=0.0)
    finally:
        done = True
        await task
    assert len(doc) == len(LARGE)
    assert ticks >= len(LARGE) - 1  # another task ran between every two events
