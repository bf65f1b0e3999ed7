"""A full detection pass through the screen: what :func:`engine.detection.detector.detect` returns, signals
and skip reasons alike, at a fraction of its cost.

``detect`` runs the exact Decimal rules on every market; this builds the board's arrays in one go
(:class:`engine.detection.board.Board`) and runs the exact rules only on the markets the screen passes
and on those that can carry a skip reason. ``scan`` uses it; ``detect`` stays as the reference the tests
hold it to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from engine.detection.board import Board
from engine.detection.detector import DetectionContext, DetectionResult
from engine.mapping.types import MappingResult
from engine.markets.kalshi import KalshiMarket, Orderbook
from engine.markets.odds import OddsEvent


def detect_screened(
    markets: Sequence[KalshiMarket],
    orderbooks: Mapping[str, Orderbook],
    events: Iterable[OddsEvent],
    mapping: MappingResult,
    ctx: DetectionContext,
    now: datetime,
    groups: Sequence[Sequence[KalshiMarket]] = (),
) -> DetectionResult:
    """Same arguments and same result as ``detect``. A book is the market's whose ticker keys it, as there."""
    board = Board(markets, mapping, ctx, groups)
    books = (book if book.ticker == ticker else Orderbook(ticker, book.yes_bids, book.no_bids)
             for ticker, book in orderbooks.items())  # fmt: skip
    board.load(books, events, now)
    return board.result(now)
