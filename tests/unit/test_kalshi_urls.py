"""REST base URL -> WebSocket URL, per api_environments.md."""

from __future__ import annotations

import pytest

from engine.connectors.kalshi.ws import ws_url_for


@pytest.mark.parametrize(
    ("rest", "ws"),
    [
        ("https://external-api.kalshi.com/trade-api/v2", "wss://external-api-ws.kalshi.com/trade-api/ws/v2"),
        ("https://external-api.demo.kalshi.co/trade-api/v2", "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"),
        ("https://api.elections.kalshi.com/trade-api/v2", "wss://api.elections.kalshi.com/trade-api/ws/v2"),
        ("https://demo-api.kalshi.co/trade-api/v2/", "wss://demo-api.kalshi.co/trade-api/ws/v2"),
        ("http://127.0.0.1:4000/trade-api/v2", "ws://127.0.0.1:4000/trade-api/ws/v2"),
    ],
)
def test_ws_url_for(rest: str, ws: str) -> None:
    assert ws_url_for(rest) == ws
