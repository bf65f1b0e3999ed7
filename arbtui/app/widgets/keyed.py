"""A ``DataTable`` updated by keys: vanished rows removed, changed cells updated, new rows added.

Never ``clear()``: the cursor and the scroll position stay where the operator left them, and only the
cells that changed are repainted. Cells are :class:`Cell` (a Rich ``Text`` carrying the value to sort by),
so any column sorts by its value rather than by its spelling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable


class Cell(Text):
    """Displayed text plus the value the column sorts by."""

    def __init__(self, text: str, sort_key: Any = None, style: str = "", justify: Any = None) -> None:
        super().__init__(text, style=style, justify=justify)
        self.sort_key: Any = text if sort_key is None else sort_key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cell):
            return NotImplemented
        return self.plain == other.plain and self.style == other.style and self.sort_key == other.sort_key

    __hash__ = None  # type: ignore[assignment]


def sortable(value: Any) -> tuple[int, Any]:
    """Unknown values (None) sort last whatever the direction's values are."""
    return (1, 0) if value is None else (0, value)


class KeyedTable(DataTable[Cell]):
    """A table whose rows are identified by stable keys and refreshed by diffing."""

    COLUMNS: Sequence[tuple[str, str]] = ()
    """(key, label) of each column."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.sort_column: str | None = None
        self.sort_reverse = False

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def row_keys(self) -> list[str]:
        """Keys in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except Exception:
            return None

    def sync(self, rows: Mapping[str, Sequence[Cell]]) -> bool:
        """Make the table hold exactly ``rows``; returns whether anything changed."""
        columns = [k for k, _ in self.COLUMNS]
        present = {str(k.value) for k in self.rows}
        changed = False
        for key in present - rows.keys():
            self.remove_row(key)
            changed = True
        for key, cells in rows.items():
            if key in present:
                for column, cell in zip(columns, cells, strict=True):
                    if self.get_cell(key, column) != cell:
                        self.update_cell(key, column, cell)
                        changed = True
            else:
                self.add_row(*cells, key=key)
                changed = True
        if changed and self.sort_column is not None:
            self.apply_sort()
        return changed

    def sort_by(self, column: str) -> None:
        """Sort by ``column``; asked again for the same column, the order flips."""
        if self.sort_column == column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self.apply_sort()

    def apply_sort(self) -> None:
        if self.sort_column is None or self.row_count == 0:
            return
        keep = self.selected_key()
        self.sort(self.sort_column, key=lambda cell: sortable(getattr(cell, "sort_key", None)),
                  reverse=self.sort_reverse)  # fmt: skip
        if keep is not None:
            self.move_cursor(row=self.get_row_index(keep), animate=False, scroll=False)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))
