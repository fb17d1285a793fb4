"""The dashboard's table of instances: one row each, one DataTable cell per row.

DataTable re-renders every visible cell whenever any cell changes, and with progress arriving
for every instance several times a second that was most of the TUI's CPU. So each row is
composed here into one Text of fixed-width columns (the header likewise): a frame costs one
render per visible row instead of eight. Rows are added once and then rewritten only when their
text changed, so the cursor and the scroll position stay put with 64 rows. Where the header line
does not fit the table's width, columns are left out in DROP_ORDER (80 columns lose "Where").
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

from .. import format as fmt
from ..views import InstanceView, RunView
from .css import css_beside

# (header, key, width, justify); the last column takes what its text needs
COLUMNS = (
    ("#", "idx", 3, "right"),
    ("State", "state", 10, "left"),
    ("Progress", "progress", 15, "left"),
    ("Iter / target", "iter", 13, "right"),
    ("it/s", "ips", 7, "right"),
    ("RSS", "rss", 5, "right"),
    ("W", "workers", 2, "right"),
    ("Rst", "restarts", 3, "right"),
    ("Where", "where", 14, "left"),
    ("Checkpoint", "ckpt", 15, "left"),
    ("Error", "error", 0, "left"),
)
KEYS = tuple(key for _, key, _, _ in COLUMNS)
ALL = tuple(range(len(COLUMNS)))
DROP_ORDER = ("where", "ckpt")  # left out in this order while the header line is wider than the table
GAP = " "
ERROR_WIDTH = 60


def checkpoint_cell(inst: InstanceView, now: float) -> Text:
    """`@iteration age`; the age only once this TUI saw the checkpoint event (see docs/tui.md)."""
    if inst.checkpoint_iter is None and not inst.last_checkpoint:
        return Text(fmt.DASH)
    it = fmt.count(inst.checkpoint_iter) if inst.checkpoint_iter is not None else "?"
    if inst.checkpoint_t is None:
        return Text(f"@{it}")
    return Text(f"@{it} {fmt.duration(now - inst.checkpoint_t)} ago")


def where_cell(inst: InstanceView) -> Text:
    """`local`, or a Slurm instance's `job@node` (`slurm` while its job id is not known yet)."""
    if inst.executor != "slurm":
        return Text(inst.executor)
    if not inst.job_id:
        return Text("slurm", style="dim")
    return Text(f"{inst.job_id}@{inst.node}" if inst.node else f"{inst.job_id} pending")


def row_cells(inst: InstanceView, now: float) -> tuple[Text, ...]:
    target = fmt.count(inst.target_iters) if inst.target_iters else "∞"
    return (
        Text(str(inst.index)),
        fmt.state_text(inst.state),
        fmt.bar(inst.fraction, 10),
        Text(f"{fmt.count(inst.iter)} / {target}"),
        Text(fmt.rate(inst.ips)),
        Text(fmt.memory(inst.rss_bytes)),
        Text(str(inst.workers)),
        Text(str(inst.restarts), style="bold yellow" if inst.restarts else ""),
        where_cell(inst),
        checkpoint_cell(inst, now),
        Text(fmt.clip(inst.error_line, ERROR_WIDTH), style="red"),
    )


def compose_row(cells: tuple[Text, ...], visible: tuple[int, ...] = ALL) -> Text:
    """Cells (one per column of COLUMNS) into one line of the visible fixed-width columns."""
    line = Text(no_wrap=True, overflow="ellipsis")
    for i, k in enumerate(visible):
        cell, (_, _, width, justify) = cells[k], COLUMNS[k]
        if i:
            line.append(GAP)
        if width:
            cell = cell.copy()
            cell.truncate(width, overflow="ellipsis")
            pad = width - cell.cell_len
            if justify == "right":
                line.append(" " * pad)
                line.append_text(cell)
                continue
            line.append_text(cell)
            line.append(" " * pad)
        else:
            line.append_text(cell)
    return line


def header(visible: tuple[int, ...] = ALL) -> Text:
    return compose_row(tuple(Text(title, style="bold") for title, _, _, _ in COLUMNS), visible)


def visible_columns(width: int) -> tuple[int, ...]:
    """The columns whose header line fits `width` cells, leaving out DROP_ORDER's first."""
    keep = list(ALL)
    for key in DROP_ORDER:
        if header(tuple(keep)).cell_len <= width:
            break
        keep.remove(KEYS.index(key))
    return tuple(keep)


HEADER = header()


class InstanceTable(DataTable):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: dict[int, tuple[str, ...]] = {}
        self._cells: dict[int, tuple[Text, ...]] = {}
        self.shown_columns = ALL

    @property
    def header_text(self) -> Text:
        return header(self.shown_columns)

    def on_mount(self) -> None:
        self.add_column(self.header_text, key="row")

    def on_resize(self) -> None:
        visible = visible_columns(self.scrollable_content_region.width)
        if visible == self.shown_columns or not self.scrollable_content_region.width:
            return
        # Another set of columns: the one column is rebuilt, rows re-added, the cursor kept.
        self.shown_columns, row = visible, self.cursor_row
        self.clear(columns=True)
        self.add_column(self.header_text, key="row")
        for index in sorted(self._cells):
            self.add_row(compose_row(self._cells[index], visible), key=str(index))
        if self.row_count:
            self.move_cursor(row=min(row, self.row_count - 1))

    @property
    def selected_index(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # an empty or shrinking table has no cell under the cursor
            return None
        return int(str(key.value))

    def cell_text(self, index: int, column: str) -> str:
        """What instance `index` shows in `column` (a key of COLUMNS), as plain text."""
        return self._shown[index][KEYS.index(column)]

    def show(self, run: RunView, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for gone in [k for k in self._shown if k not in run.instances]:
            self.remove_row(str(gone))
            del self._shown[gone], self._cells[gone]
        for index in sorted(run.instances):
            cells = row_cells(run.instances[index], now)
            plain = tuple(c.plain for c in cells)
            old = self._shown.get(index)
            if old is None:
                self.add_row(compose_row(cells, self.shown_columns), key=str(index))
            elif old != plain:
                self.update_cell(str(index), "row", compose_row(cells, self.shown_columns), update_width=True)
            self._shown[index] = plain
            self._cells[index] = cells
