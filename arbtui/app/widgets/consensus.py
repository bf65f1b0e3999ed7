"""The book consensus for the selected signal: each book's odds, vig-free probability and quote age,
the Kalshi ladder with the levels the order would take, fees for the size, the edge sparkline and, for an
``arb``, the hedge instructions."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Sparkline, Static

from arbtui.app.format import age, american, count, money, percent, price
from engine.runtime.dashboard import LadderLevel, SignalDetail, SignalRow


def books_table(detail: SignalDetail) -> Table:
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    table.add_column("Book", no_wrap=True, overflow="ellipsis", ratio=1)
    table.add_column("Outcome", no_wrap=True, overflow="ellipsis", ratio=1)
    table.add_column("Odds", justify="right", no_wrap=True, min_width=5)
    table.add_column("Vig-free", justify="right", no_wrap=True, min_width=8)
    table.add_column("Age", justify="right", no_wrap=True, min_width=5)
    for q in detail.quotes:
        style = "dim" if q.stale or not q.agrees else ""
        when = Text(f"{age(q.age_s)}!", style="bold red") if q.stale else Text(age(q.age_s))
        table.add_row(q.book, q.outcome, american(q.american), percent(q.probability), when, style=style)
    if any(q.stale for q in detail.quotes):
        table.caption = "! stale quote: not counted"
    return table


def ladder_table(detail: SignalDetail) -> Table:
    table = Table(box=None, padding=(0, 1), header_style="bold", title="Kalshi asks", title_justify="left")
    table.add_column("YES ask", justify="right")
    table.add_column("qty", justify="right")
    table.add_column("NO ask", justify="right")
    table.add_column("qty", justify="right")

    def cell(levels: tuple[LadderLevel, ...], i: int) -> tuple[Text, Text]:
        if i >= len(levels):
            return Text(""), Text("")
        lvl = levels[i]
        style = "bold black on yellow" if lvl.taken else ""
        return Text(price(lvl.price), style=style), Text(count(lvl.count), style=style)

    for i in range(min(6, max(len(detail.yes_asks), len(detail.no_asks)))):
        table.add_row(*cell(detail.yes_asks, i), *cell(detail.no_asks, i))
    return table


def consensus_renderable(
    detail: SignalDetail | None, row: SignalRow | None, *, loading: bool = False
) -> RenderableType:
    """The pane's text; ``loading``: the selected signal's detail has been asked for and is not in yet."""
    if detail is None or row is None:
        if row is not None and row.gone:
            return Text(f"{row.market}: this signal has gone", style="dim")
        if row is not None and loading:
            return Text(f"{row.market}: reading its books and ladder…", style="dim")
        if row is not None:
            return Text(f"{row.market}: no longer live", style="dim")
        return Text("Select a signal to see its book consensus.", style="dim")
    head = Text()
    head.append(f"{row.game} · {row.market} · {row.side.upper()}\n", style="bold")
    head.append(f"consensus {percent(detail.consensus)} from {detail.books_agree} agreeing books · ")
    head.append(f"buy {detail.count} @ ≤ {price(detail.limit_price)}: cost {money(detail.cost)} "
                f"fees {money(detail.fees)}")  # fmt: skip
    parts: list[RenderableType] = [head]
    if detail.quotes:
        parts.append(books_table(detail))
    parts.append(ladder_table(detail))
    if detail.hedges:
        hedges = Table(box=None, padding=(0, 1), header_style="bold", title="Hedge (place by hand)",
                       title_justify="left")  # fmt: skip
        for name in ("Book", "Outcome", "Odds", "Stake"):
            hedges.add_column(name)
        for h in detail.hedges:
            outcome = h.outcome if h.point is None else f"{h.outcome} {h.point:+}"
            hedges.add_row(h.book, outcome, american(h.american), money(h.stake))
        parts.append(hedges)
    return Group(*parts)


class ConsensusPane(VerticalScroll):
    """Repaints only when the selected signal's detail changes."""

    BORDER_TITLE = "Book consensus"

    def __init__(self) -> None:
        super().__init__(id="consensus")
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="consensus-body")
        yield Sparkline([], id="edge-sparkline")

    def show(self, detail: SignalDetail | None, row: SignalRow | None, *, loading: bool = False) -> None:
        shown = (detail, None if row is None else (row.key, row.gone), loading)
        if self._shown == shown:
            return
        self._shown = shown
        self.query_one("#consensus-body", Static).update(consensus_renderable(detail, row, loading=loading))
        spark = self.query_one("#edge-sparkline", Sparkline)
        spark.data = list(detail.edge_history) if detail is not None else []
        spark.display = detail is not None and len(detail.edge_history) > 1
