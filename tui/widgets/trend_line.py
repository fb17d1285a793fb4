"""A labelled one-line sparkline with the current value: the plots' small-terminal form.

Its scale holds still within a view (see tui/scale.py): log10 of the values where asked (and all
are positive), rounded out to whole decades, and shown beside the line, so the shape means the
same from one frame to the next.
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.text import Text
from textual.widgets import Static

from .. import format as fmt
from ..scale import StickyRange, log_values
from ..series import History
from .css import css_beside


class TrendLine(Static):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.range = StickyRange()

    def show(
        self, label: str, history: History, value: str, style: str = "green", log: bool = False, view: Hashable = None
    ) -> None:
        values = history.values()
        logged = log_values(values) if log else None
        shown = logged if logged is not None else values
        scale = ""
        bounds = None
        if len(shown) >= 2:
            bounds = self.range.fit(shown, logged is not None, view)
            lo, hi = (10 ** bounds[0], 10 ** bounds[1]) if logged is not None else bounds
            scale = (
                f"{fmt.metric(lo) if logged is not None else fmt.count(lo)}–"
                f"{fmt.metric(hi) if logged is not None else fmt.count(hi)}"
            )
        width = max(0, self.size.width - len(label) - len(value) - len(scale) - 6)
        line = fmt.spark(shown, width, bounds) if bounds is not None else ""
        self.update(
            Text.assemble(
                (label, "dim"),
                " ",
                (line.ljust(width) if line else "waiting for data".ljust(width), style if line else "dim"),
                " ",
                (scale, "dim"),
                "  ",
                (value, "bold"),
            )
        )
