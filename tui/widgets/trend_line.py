"""A labelled one-line sparkline with the current value: the plots' small-terminal form."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import Static

from .. import format as fmt
from ..model import History
from .css import css_beside


class TrendLine(Static):
    DEFAULT_CSS = css_beside(__file__)

    def show(self, label: str, history: History, value: str, style: str = "green", log: bool = False) -> None:
        width = max(0, self.size.width - len(label) - len(value) - 4)
        values = history.values()
        if log and values and min(values) > 0:
            values = [math.log10(v) for v in values]  # orders of magnitude, as on the plot
        line = fmt.spark(values, width) if len(values) >= 2 else ""
        self.update(Text.assemble((label, "dim"), " ", (line.ljust(width) if line else "waiting for data".ljust(width),
                                                        style if line else "dim"), "  ", (value, "bold")))
