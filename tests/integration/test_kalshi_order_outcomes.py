"""Order creation against a scripted Kalshi on 127.0.0.1: answers the simulator cannot give on purpose (an order
that lands late and is not yet listed, then a refusal of the retry)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import pytest
from aiohttp import web

from engine.connectors.errors import OrderOutcomeUnknownError
from engine.connectors.http import RetryPolicy
from engine.connectors.kalshi.models import BookSide, OrderRequest
from engine.connectors.kalshi.ratelimit import AsyncRateLimiter
from engine.connectors.kalshi.rest import KalshiRestClient

pytestmark = pytest.mark.integration
TICKER = "KXMLBGAME-26OCT05NYYBOS-NYY"


class ScriptedKalshi:
    """The first create is placed but answered too late; the retry is refused for want of balance (the first
    order holds it). ``listed_after`` lookups pass before the placed order shows in ``GET /portfolio/orders``."""

    def __init__(self, listed_after: int) -> None:
        self.listed_after = listed_after
        self.creates = 0
        self.lookups = 0
        self.order: dict[str, Any] | None = None

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.creates += 1
        if self.creates == 1:
            self.order = {
                "order_id": "ord-1", "user_id": "u", "client_order_id": body["client_order_id"], "ticker": TICKER,
                "outcome_side": "yes", "book_side": "bid", "type": "limit", "status": "resting",
                "yes_price_dollars": body["price"], "no_price_dollars": "0.5000", "fill_count_fp": "0.00",
                "remaining_count_fp": body["count"], "initial_count_fp": body["count"],
                "taker_fees_dollars": "0.0000", "maker_fees_dollars": "0.0000",
                "taker_fill_cost_dollars": "0.0000", "maker_fill_cost_dollars": "0.0000",
            }  # fmt: skip
            await asyncio.sleep(1.0)  # placed, but the client gives up waiting
            return web.json_response({}, status=201)
        problem = {"code": "insufficient_balance", "message": "insufficient balance", "details": ""}
        return web.json_response(problem, status=400)

    async def orders(self, request: web.Request) -> web.Response:
        self.lookups += 1
        visible = self.order is not None and self.lookups > self.listed_after
        return web.json_response({"orders": [self.order] if visible else [], "cursor": ""})


@pytest.fixture
async def scripted(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ScriptedKalshi, str]]:
    venue = ScriptedKalshi(listed_after=request.param)
    app = web.Application()
    app.router.add_post("/trade-api/v2/portfolio/events/orders", venue.create)
    app.router.add_get("/trade-api/v2/portfolio/orders", venue.orders)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield venue, f"http://127.0.0.1:{port}/trade-api/v2"
    finally:
        await runner.cleanup()


def client(url: str) -> KalshiRestClient:
    retry = RetryPolicy(max_attempts=4, base_s=0.01, cap_s=0.02)
    return KalshiRestClient(url, None, limiter=AsyncRateLimiter.for_tier("basic"), retry=retry, timeout_s=0.2)


ORDER = OrderRequest(TICKER, BookSide.BID, D(5), D("0.5"), str(uuid.uuid4()))


@pytest.mark.parametrize("scripted", [1], indirect=True)
async def test_a_refused_retry_finds_the_order_that_landed(scripted: tuple[ScriptedKalshi, str]) -> None:
    venue, url = scripted
    async with client(url) as kalshi:
        ack = await kalshi.create_order(ORDER)
    assert ack.recovered and ack.order_id == "ord-1" and venue.creates == 2


@pytest.mark.parametrize("scripted", [99], indirect=True)
async def test_a_refused_retry_is_never_reported_as_nothing_placed(scripted: tuple[ScriptedKalshi, str]) -> None:
    venue, url = scripted
    async with client(url) as kalshi:
        with pytest.raises(OrderOutcomeUnknownError) as info:
            await kalshi.create_order(ORDER)
    assert "insufficient" in info.value.reason and venue.creates == 2
