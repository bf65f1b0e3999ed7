"""The live signals table: one row per signal, updated in place, sortable, filtered by league and kind.

A signal that has gone stays for a few seconds, greyed (the engine keeps it and marks it ``gone``), so a row
never vanishes under the operator's cursor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from textual.binding import Binding, BindingType

from arbtui.app.format import age, money, percent, price
from arbtui.app.widgets.keyed import Cell, KeyedTable, sortable
from engine.runtime.dashboard import SignalRow

KIND_STYLE = {"edge": "", "arb": "bold", "kalshi_arb": "bold"}


def matches(row: SignalRow, words: Iterable[str]) -> bool:
    """Each filter word must name the row's league or kind (or appear in its game)."""
    for word in words:
        w = word.lower()
        if w not in (row.league.lower(), row.kind.lower()) and w not in row.game.lower():
            return False
    return True


def cells(row: SignalRow) -> list[Cell]:
    dim = "dim strike" if row.gone else ""
    edge_style = dim or ("green" if row.edge > 0 else "red")
    return [
        Cell(row.kind, style=dim or KIND_STYLE.get(row.kind, "")),
        Cell(row.league.upper(), style=dim),
        Cell(row.market, style=dim),
        Cell(row.side.upper(), style=dim),
        Cell(percent(row.edge, 2), row.edge, style=edge_style, justify="right"),
        Cell(money(row.ev), row.ev, style=dim, justify="right"),
        Cell(str(row.count), row.count, style=dim, justify="right"),
        Cell(price(row.ask), row.ask, style=dim, justify="right"),
        Cell(percent(row.fair), row.fair, style=dim, justify="right"),
        Cell(str(row.books_agree), row.books_agree, style=dim, justify="right"),
        Cell("gone" if row.gone else age(row.age_s), row.age_s, style=dim, justify="right"),
        Cell(row.game, style=dim),
    ]


class SignalsTable(KeyedTable):
    """Signals keyed by ``kind|ticker|side``; ``enter`` opens the selected one's details."""

    BORDER_TITLE = "Live signals"
    COLUMNS = (
        # what decides a trade first (edge, EV, size, price); the long game name last, so an operator sees
        # every figure at 120 columns without scrolling sideways
        ("kind", "Kind"),
        ("league", "League"),
        ("market", "Market"),
        ("side", "Side"),
        ("edge", "Edge"),
        ("ev", "EV"),
        ("size", "Size"),
        ("ask", "Ask"),
        ("fair", "Fair"),
        ("books", "Books"),
        ("age", "Age"),
        ("game", "Game"),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_sort", "Sort", id="signals.sort", tooltip="Sort by the next column"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(id="signals", **kwargs)
        self.words: tuple[str, ...] = ()
        self.shown: dict[str, SignalRow] = {}

    def show(self, rows: Iterable[SignalRow]) -> None:
        kept = {r.key: r for r in rows if matches(r, self.words)}
        self.shown = kept
        self.sync({k: cells(r) for k, r in kept.items()})
        live = sum(1 for r in kept.values() if not r.gone)
        flt = f" · filter: {' '.join(self.words)}" if self.words else ""
        self.border_title = f"Live signals ({live}){flt}"

    def sync(self, rows: Mapping[str, Sequence[Cell]]) -> bool:
        changed = super().sync(rows)
        if changed and self.sort_column is None:
            self.apply_sort()
        return changed

    def apply_sort(self) -> None:
        """Live signals always above those that have gone (greyed for a few seconds, so none vanishes under the
        cursor), then by the chosen column; before the operator picks one, the highest edge first."""
        if self.row_count == 0:
            return
        column = self.sort_column or "edge"
        reverse = self.sort_reverse if self.sort_column is not None else True
        keep = self.selected_key()

        def order(cells: tuple[Cell, Cell]) -> tuple[bool, tuple[int, Any]]:
            age_cell, cell = cells
            gone = age_cell.plain == "gone"
            return (not gone if reverse else gone, sortable(getattr(cell, "sort_key", None)))

        self.sort("age", column, key=order, reverse=reverse)
        if keep is not None:
            self.move_cursor(row=self.get_row_index(keep), animate=False, scroll=False)

    def action_cycle_sort(self) -> None:
        columns = [k for k, _ in self.COLUMNS]
        nxt = columns[0] if self.sort_column is None else columns[(columns.index(self.sort_column) + 1) % len(columns)]
        self.sort_by(nxt)
        self.notify(f"signals sorted by {dict(self.COLUMNS)[nxt]}", timeout=2)
