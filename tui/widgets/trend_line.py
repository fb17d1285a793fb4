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
        positive = [v for v in values if v > 0]
        # a quality metric is read on a log scale; a zero (reported before the first measurement) would
        # otherwise turn the whole line linear, so it is left out while two positive values remain
        logged = log_values(positive) if log and len(positive) >= 2 else None
        shown = logged if logged is not None else values
        number = fmt.metric if log else fmt.count  # the metric's scale keeps its digits: not "0–0"
        scale = ""
        bounds = None
        if len(shown) >= 2:
            bounds = self.range.fit(shown, logged is not None, view)
            lo, hi = (10 ** bounds[0], 10 ** bounds[1]) if logged is not None else bounds
            scale = f"{number(lo)}–{number(hi)}"
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
