"""Paper settlements: a paper position is paid when its market settles on the exchange.

Paper mode has no account on the exchange, so no settlement ever arrives from it; without this module a
paper position would stay open after its game ended, its P&L would never be realised and the breaker's daily
loss and losing streak would never count a paper loss. The exchange still says when a market is decided: a
``market_lifecycle_v2`` ``determined`` message carries ``result`` and ``settlement_value`` (fixed-point
dollars, "0.5000" for an NFL tie), and ``settled`` follows; the REST market then has ``result`` and
``settlement_value_dollars``. From those and the paper ledger's position this module builds the same
:class:`~engine.execution.model.SettlementRecord` the live path records, and hands it to
:meth:`OrderManager.record_settlement`, which commits it once by ticker (the store refuses a second, also
after a restart) and lets the breaker guard count it into its ledger: the one ledger the desk, ``status`` and
the dashboard read.

The value rules are pure (:func:`settlement_value`, :func:`lifecycle_settlement`, :func:`market_settlement`);
:class:`PaperSettler` is the thin shell that reads the ledger, asks REST when a message lacked the value,
and records.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.connectors.errors import NotFoundError
from engine.connectors.kalshi.messages import MarketLifecycle
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.detection.signals import Side
from engine.errors import ArbError
from engine.execution.manager import OrderManager
from engine.execution.model import SettlementRecord
from engine.portfolio.ledger import Ledger, Position

log = logging.getLogger(__name__)

ZERO = Decimal(0)
ONE = Decimal(1)

DECIDED = frozenset({"determined", "settled"})
"""Lifecycle event types after which a market's result is known."""


class SettlementError(ArbError):
    """A settlement value the exchange sent that cannot be a price of one YES contract."""


def settlement_value(result: str | None, value: Decimal | None, ticker: str) -> Decimal | None:
    """What one YES contract pays: the exchange's ``settlement_value`` when it sent one (it covers a tie at
    0.50 and any scalar result), else 1 for ``yes`` and 0 for ``no``; None while the result is not known.

    A value outside 0..1 dollars, or one that contradicts a ``yes`` / ``no`` result, is refused: paying a
    position on a garbled number would move cash and the breaker's counters by money that never existed."""
    result = (result or "").strip().lower()
    if value is not None:
        if not ZERO <= value <= ONE:
            raise SettlementError(f"settlement of {ticker}: value {value} is outside 0..1 dollars")
        if (result == "yes" and value != ONE) or (result == "no" and value != ZERO):
            raise SettlementError(f"settlement of {ticker}: value {value} contradicts result {result!r}")
        return value
    if result == "yes":
        return ONE
    if result == "no":
        return ZERO
    return None


def paid(position: Position, value: Decimal) -> Decimal:
    """What the held contracts pay at ``value`` per YES (1 - value per NO)."""
    if position.side is Side.YES:
        return value * position.count
    if position.side is Side.NO:
        return (ONE - value) * position.count
    return ZERO


def record_for(position: Position, value: Decimal, ts: datetime) -> SettlementRecord:
    return SettlementRecord(position.ticker, position.event_ticker, value, ts, paid(position, value))


def lifecycle_settlement(msg: MarketLifecycle, position: Position, now: datetime) -> SettlementRecord | None:
    """The settlement a ``determined`` / ``settled`` message implies for ``position``, or None when the message
    does not say the value (a ``settled`` without its ``determined``: ask REST)."""
    if msg.event_type not in DECIDED:
        return None
    value = settlement_value(msg.result, msg.settlement_value, msg.ticker)
    if value is None:
        return None
    stamp = msg.settled_ts if msg.settled_ts is not None else msg.determination_ts
    ts = datetime.fromtimestamp(stamp, UTC) if stamp is not None else now
    return record_for(position, value, ts)


def market_settlement(doc: Mapping[str, Any], position: Position, now: datetime) -> SettlementRecord | None:
    """The settlement a REST market object (``GET /markets/{ticker}``'s ``market``) implies, or None while
    the market is not decided."""
    raw = doc.get("settlement_value_dollars")
    value: Decimal | None = None
    if isinstance(raw, str) and raw.strip():
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise SettlementError(f"settlement of {position.ticker}: value {raw!r} is not a decimal") from None
    result = doc.get("result")
    found = settlement_value(result if isinstance(result, str) else None, value, position.ticker)
    if found is None:
        return None
    ts = now
    stamp = doc.get("settlement_ts")
    if isinstance(stamp, str):
        try:
            ts = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            ts = now
        if ts.tzinfo is None:
            ts = now
    return record_for(position, found, ts)


MarketDoc = Callable[[str], Awaitable[Mapping[str, Any] | None]]
"""Reads one market as served by REST (the ``market`` object), None when it is not found."""


def rest_market_doc(rest: KalshiRestClient) -> MarketDoc:
    """``GET /markets/{ticker}``'s ``market`` object, raw (``result``, ``settlement_value_dollars``)."""

    async def read(ticker: str) -> Mapping[str, Any] | None:
        try:
            doc = await rest.request("GET", f"/markets/{ticker}")
        except NotFoundError:
            return None
        market = doc.get("market") if isinstance(doc, dict) else None
        return market if isinstance(market, dict) else None

    return read


class PaperSettler:
    """Settles paper positions from lifecycle messages (and REST when a message lacks the value).

    ``ledger`` reads the one ledger (the breaker guard's) at the moment of the message, so only markets the
    paper account traded and that are not settled yet are considered; ``on_settled`` is told of each new
    settlement (the engine logs it)."""

    def __init__(
        self,
        manager: OrderManager,
        ledger: Callable[[], Ledger],
        now: Callable[[], datetime],
        market_doc: MarketDoc | None = None,
        on_settled: Callable[[SettlementRecord], None] | None = None,
    ) -> None:
        self.manager = manager
        self._ledger = ledger
        self._now = now
        self._market_doc = market_doc
        self._on_settled = on_settled
        self.settled = 0

    def _open(self, ticker: str) -> Position | None:
        position = self._ledger().position(ticker)
        if position is None or position.settled or position.contracts_traded == 0:
            return None
        return position

    async def on_lifecycle(self, msg: MarketLifecycle) -> SettlementRecord | None:
        """Settle the market ``msg`` names when it is decided and the paper ledger traded it."""
        if msg.event_type not in DECIDED:
            return None
        position = self._open(msg.ticker)
        if position is None:
            return None
        try:
            record = lifecycle_settlement(msg, position, self._now())
        except SettlementError as exc:
            log.error("paper settlement not recorded: %s", exc)
            return None
        if record is None:
            return await self.settle_from_market(msg.ticker)
        return await self._record(record)

    async def settle_from_market(self, ticker: str) -> SettlementRecord | None:
        """Ask REST whether ``ticker`` is decided and settle it if so (a missed message, or a restart)."""
        position = self._open(ticker)
        if position is None or self._market_doc is None:
            return None
        try:
            doc = await self._market_doc(ticker)
            record = None if doc is None else market_settlement(doc, position, self._now())
        except ArbError as exc:
            log.warning("paper settlement of %s: market not read: %s", ticker, exc)
            return None
        return None if record is None else await self._record(record)

    async def catch_up(self) -> int:
        """Every paper position still open asks REST whether its market settled while the engine was down."""
        count = 0
        for ticker in sorted(self._ledger().positions):
            if await self.settle_from_market(ticker) is not None:
                count += 1
        return count

    async def _record(self, record: SettlementRecord) -> SettlementRecord | None:
        if self._open(record.ticker) is None:  # settled meanwhile (determined, then settled)
            return None
        try:
            if not await self.manager.record_settlement(record):
                return None
        except ArbError as exc:  # the store refused it (a different value already held): nothing counted
            log.error("paper settlement of %s not recorded: %s", record.ticker, exc)
            return None
        self.settled += 1
        log.info("paper settlement %s at %s: revenue %s", record.ticker, record.value, record.revenue)
        if self._on_settled is not None:
            self._on_settled(record)
        return record
