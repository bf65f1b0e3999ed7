"""A trading process for the SIGKILL test: it places one live order through the real stack and is killed by
the test between the send and the acknowledgement.

Protocol on stdin/stdout: prints ``READY`` once its store, breaker and order group are set up, waits for a
line on stdin, places the order, and prints ``SENT <client_order_id>`` as soon as the store holds the order
as SENT (the simulator holds the acknowledgement back with injected latency, so the process is still waiting
for it when the test kills it).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from engine.connectors.http import RetryPolicy
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.signing import KalshiSigner
from engine.detection.signals import Side
from engine.execution.groups import OrderGroups
from engine.execution.guard import BreakerGuard
from engine.execution.live import LiveExecutor
from engine.execution.manager import OrderManager
from engine.execution.model import Action, Mode, OrderIntent, OrderState, TimeInForce
from engine.execution.proposals import proposal_for
from engine.risk.limits import RiskLimits
from engine.store.factory import open_store


def now() -> datetime:
    return datetime.now(UTC)


async def main(spec: dict[str, str]) -> None:
    store = await open_store(Path(spec["db"]))
    signer = KalshiSigner.from_file(spec["key_id"], spec["key_path"])
    rest = KalshiRestClient(spec["url"], signer, retry=RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.05))
    limits = RiskLimits(max_trade_contracts=5000, max_trade_risk=Decimal(5000), max_daily_loss=Decimal(5000))
    guard = await BreakerGuard.open(store, limits, now())
    groups = OrderGroups(rest, contracts_limit=1000)
    manager = OrderManager(store, LiveExecutor(rest, groups, now), guard, now)
    await manager.load()
    intent = OrderIntent(
        client_order_id=spec["client_order_id"], ticker=spec["ticker"], event_ticker=spec["event_ticker"],
        league=spec["league"], side=Side.YES, action=Action.BUY, count=int(spec["count"]),
        limit_price=Decimal(spec["limit"]), time_in_force=TimeInForce.IOC, mode=Mode.LIVE, created_at=now(),
        signal_key=spec["signal_key"], exchange_index=int(spec["exchange_index"]),
    )  # fmt: skip
    fees = (await rest.series(spec["series_ticker"])).fees
    cash = (await rest.balance()).balance
    await groups.group_for(intent.exchange_index)
    print("READY", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    proposal = proposal_for(intent, fees, book_at=now(), shard_cash=cash)
    placing = asyncio.create_task(manager.place(intent, proposal))
    while True:
        record = await store.order(intent.client_order_id)
        if record is not None and record.state is OrderState.SENT:
            print(f"SENT {intent.client_order_id}", flush=True)
            break
        if placing.done():
            print(f"DONE {placing.result()}", flush=True)
            return
        await asyncio.sleep(0.005)
    await placing  # the test kills the process while this waits for the acknowledgement


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
