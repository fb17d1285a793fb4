"""The dashboard's table of instances: one row each, updated cell by cell.

Rows are added once and then only changed cells are rewritten (`update_cell`), so the cursor
and the scroll position stay put and a 64-row table costs little per refresh.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

from .. import format as fmt
from ..model import InstanceView, RunView
from .css import css_beside

COLUMNS = (("#", "idx"), ("State", "state"), ("Progress", "progress"), ("Iter / target", "iter"),
           ("it/s", "ips"), ("Rst", "restarts"), ("Checkpoint", "ckpt"), ("Last error", "error"))


def checkpoint_cell(inst: InstanceView, now: float) -> Text:
    """`@iteration age ago`; the age only once this TUI saw the checkpoint event (see docs)."""
    if inst.checkpoint_iter is None and not inst.last_checkpoint:
        return Text(fmt.DASH)
    it = fmt.count(inst.checkpoint_iter) if inst.checkpoint_iter is not None else "?"
    if inst.checkpoint_t is None:
        return Text(f"@{it}")
    return Text(f"@{it} {fmt.duration(now - inst.checkpoint_t)} ago")


def row_cells(inst: InstanceView, now: float) -> tuple[object, ...]:
    target = fmt.count(inst.target_iters) if inst.target_iters else "∞"
    return (Text(str(inst.index), justify="right"), fmt.state_text(inst.state), fmt.bar(inst.fraction, 10),
            Text(f"{fmt.count(inst.iter)} / {target}", justify="right"), Text(fmt.rate(inst.ips), justify="right"),
            Text(str(inst.restarts), justify="right", style="bold yellow" if inst.restarts else ""),
            checkpoint_cell(inst, now), Text(fmt.clip(inst.error_line, 60), style="red"))


class InstanceTable(DataTable):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: dict[int, tuple[str, ...]] = {}

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_index(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # an empty or shrinking table has no cell under the cursor
            return None
        return int(str(key.value))

    def show(self, run: RunView, now: float | None = None) -> None:
        now = time.time() if now is None else now
        wanted = sorted(run.instances)
        for gone in [k for k in self._shown if k not in run.instances]:
            self.remove_row(str(gone))
            del self._shown[gone]
        for index in wanted:
            cells = row_cells(run.instances[index], now)
            plain = tuple(str(c) for c in cells)
            old = self._shown.get(index)
            if old is None:
                self.add_row(*cells, key=str(index))
            elif old != plain:
                for (_, col), cell, before, after in zip(COLUMNS, cells, old, plain):
                    if before != after:
                        self.update_cell(str(index), col, cell)
            self._shown[index] = plain
