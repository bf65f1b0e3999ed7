"""Positions (marked at the bid, LEGGED ones flagged), orders and fills: keyed tables, newest first."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import TabbedContent, TabPane

from arbtui.app.format import money, price, signed_money
from arbtui.app.widgets.keyed import Cell, KeyedTable
from engine.runtime.dashboard import DashboardSnapshot, FillRow, OrderRow, PositionRow

STATE_STYLE = {"filled": "green", "cancelled": "dim", "rejected": "red", "unknown": "bold red", "acked": "cyan",
               "partially_filled": "yellow"}  # fmt: skip


def position_cells(p: PositionRow) -> list[Cell]:
    flag = "bold white on red" if p.legged else ""
    pnl_style = "" if p.unrealised is None else "green" if p.unrealised >= 0 else "red"
    return [
        Cell(p.ticker + (" LEGGED" if p.legged else ""), style=flag),
        Cell(p.side.upper()),
        Cell(str(p.count), p.count, justify="right"),
        Cell(price(p.avg_price), p.avg_price, justify="right"),
        Cell(price(p.mark), p.mark, justify="right"),
        Cell(signed_money(p.unrealised), p.unrealised, style=pnl_style, justify="right"),
        Cell(money(p.fees), p.fees, justify="right"),
        Cell(p.event_ticker),
    ]


def order_cells(o: OrderRow) -> list[Cell]:
    return [
        Cell(f"{o.ts:%H:%M:%S}", o.ts),
        Cell(o.ticker),
        Cell(o.side.upper()),
        Cell(str(o.count), o.count, justify="right"),
        Cell(price(o.limit_price), o.limit_price, justify="right"),
        Cell(o.state, style=STATE_STYLE.get(o.state, "")),
        Cell(str(o.filled), o.filled, justify="right"),
        Cell(o.reason),
    ]


def fill_cells(f: FillRow) -> list[Cell]:
    return [
        Cell(f"{f.ts:%H:%M:%S}", f.ts),
        Cell(f.ticker),
        Cell(f.side.upper()),
        Cell(str(f.count), f.count, justify="right"),
        Cell(price(f.price), f.price, justify="right"),
        Cell(money(f.fee), f.fee, justify="right"),
    ]


class PositionsTable(KeyedTable):
    COLUMNS = (("ticker", "Market"), ("side", "Side"), ("count", "Qty"), ("avg", "Avg"), ("mark", "Mark"),
               ("unrealised", "Unrealised"), ("fees", "Fees"), ("event", "Event"))  # fmt: skip


class OrdersTable(KeyedTable):
    COLUMNS = (("ts", "Time"), ("ticker", "Market"), ("side", "Side"), ("count", "Qty"), ("limit", "Limit"),
               ("state", "State"), ("filled", "Filled"), ("reason", "Reason"))  # fmt: skip


class FillsTable(KeyedTable):
    COLUMNS = (("ts", "Time"), ("ticker", "Market"), ("side", "Side"), ("count", "Qty"), ("price", "Price"),
               ("fee", "Fee"))  # fmt: skip


class PortfolioTabs(Vertical):
    """Positions, orders and fills in one pane, one tab each."""

    def __init__(self) -> None:
        super().__init__(id="portfolio")

    def compose(self) -> ComposeResult:
        with TabbedContent():
            with TabPane("Positions", id="tab-positions"):
                yield PositionsTable(id="positions")
            with TabPane("Orders", id="tab-orders"):
                yield OrdersTable(id="orders")
            with TabPane("Fills", id="tab-fills"):
                yield FillsTable(id="fills")

    def show(self, snap: DashboardSnapshot) -> None:
        self.query_one(PositionsTable).sync({p.ticker: position_cells(p) for p in snap.positions})
        self.query_one(OrdersTable).sync({o.client_order_id: order_cells(o) for o in snap.orders})
        self.query_one(FillsTable).sync({f.fill_id: fill_cells(f) for f in snap.fills})
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("tab-positions").label = f"Positions ({len(snap.positions)})"
        tabs.get_tab("tab-fills").label = f"Fills ({snap.fills_total})"
