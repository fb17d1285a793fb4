"""A line plot over time (textual-plotext): x is time before now, one or two series, y ticks
labelled in the units a person reads (12.3k, 0.0042) rather than raw floats.

Redrawn only when told (`show`), at most once a second by the dashboard, because a plotext
build costs milliseconds and progress arrives many times a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual_plotext import PlotextPlot

from .. import format as fmt
from ..model import History
from .css import css_beside


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    history: History
    color: str = "green"
    right: bool = False  # on a second y axis (e.g. one instance's rate beside the run's total)


def ticks(lo: float, hi: float, n: int = 4, log: bool = False) -> list[float]:
    """n tick values over [lo, hi], evenly spaced (geometrically on a log axis)."""
    if hi <= lo:
        return [lo]
    if log:
        return [lo * (hi / lo) ** (i / (n - 1)) for i in range(n)]
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def time_axis(span_s: float) -> tuple[float, str]:
    """Divisor and label of the x axis: seconds, minutes or hours before now, by the span shown."""
    if span_s < 180:
        return 1.0, "seconds ago"
    if span_s < 3 * 3600:
        return 60.0, "minutes ago"
    return 3600.0, "hours ago"


class TimePlot(PlotextPlot):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, title: str, *, value_format: Callable[[float], str] = fmt.count, log_y: bool = False,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.value_format = value_format
        self.log_y = log_y  # for quantities that fall by orders of magnitude (exploitability)
        self._signature: tuple[object, ...] | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.show((), now=0.0)

    def show(self, series: tuple[Series, ...], now: float, title: str | None = None) -> None:
        title = title or self.title
        drawn = [s for s in series if len(s.history) >= 2]
        signature = (title, now if drawn else None,
                     tuple((s.label, len(s.history), s.history.points[-1]) for s in drawn))
        if signature == self._signature:
            return
        self._signature = signature
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title if drawn else f"{title} — waiting for data")
        span = max((now - s.history.points[0][0] for s in drawn), default=0.0)
        unit, xlabel = time_axis(span)
        for s in drawn:
            xs = [(t - now) / unit for t in s.history.times()]
            side = "right" if s.right else "left"
            plt.plot(xs, s.history.values(), label=s.label, color=s.color, marker="braille", yside=side)
            values = s.history.values()
            # Linear for now: plotext's log axis raised a math domain error on live daemon data (its
            # scale is chosen per side, not per series); `log_y` is kept for when that is fixed.
            log = False
            plt.yscale("log" if log else "linear", yside=side)  # a figure keeps its last scale
            marks = ticks(min(values), max(values), log=log)
            plt.yticks(marks, [self.value_format(v) for v in marks], yside=side)
        plt.xlabel(xlabel)
        self.refresh()
