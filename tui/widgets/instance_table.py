"""The dashboard's table of instances: one row each, one DataTable cell per row.

DataTable re-renders every visible cell whenever any cell changes, and with progress arriving
for every instance several times a second that was most of the TUI's CPU. So each row is
composed here into one Text of fixed-width columns (the header likewise): a frame costs one
render per visible row instead of eight. Rows are added once and then rewritten only when their
text changed, so the cursor and the scroll position stay put with 64 rows.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

from .. import format as fmt
from ..model import InstanceView, RunView
from .css import css_beside

# (header, key, width, justify); the last column takes what its text needs
COLUMNS = (("#", "idx", 3, "right"), ("State", "state", 10, "left"), ("Progress", "progress", 15, "left"),
           ("Iter / target", "iter", 13, "right"), ("it/s", "ips", 7, "right"), ("Rst", "restarts", 3, "right"),
           ("Where", "where", 14, "left"), ("Checkpoint", "ckpt", 15, "left"), ("Last error", "error", 0, "left"))
KEYS = tuple(key for _, key, _, _ in COLUMNS)
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
    return (Text(str(inst.index)), fmt.state_text(inst.state), fmt.bar(inst.fraction, 10),
            Text(f"{fmt.count(inst.iter)} / {target}"), Text(fmt.rate(inst.ips)),
            Text(str(inst.restarts), style="bold yellow" if inst.restarts else ""), where_cell(inst),
            checkpoint_cell(inst, now), Text(fmt.clip(inst.error_line, ERROR_WIDTH), style="red"))


def compose_row(cells: tuple[Text, ...]) -> Text:
    """Cells into one line of fixed-width columns."""
    line = Text(no_wrap=True, overflow="ellipsis")
    for i, (cell, (_, _, width, justify)) in enumerate(zip(cells, COLUMNS)):
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


HEADER = compose_row(tuple(Text(title, style="bold") for title, _, _, _ in COLUMNS))


class InstanceTable(DataTable):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: dict[int, tuple[str, ...]] = {}

    def on_mount(self) -> None:
        self.add_column(HEADER, key="row")

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
            del self._shown[gone]
        for index in sorted(run.instances):
            cells = row_cells(run.instances[index], now)
            plain = tuple(c.plain for c in cells)
            old = self._shown.get(index)
            if old is None:
                self.add_row(compose_row(cells), key=str(index))
            elif old != plain:
                self.update_cell(str(index), "row", compose_row(cells), update_width=True)
            self._shown[index] = plain
