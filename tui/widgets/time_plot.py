"""A line plot over time (textual-plotext): x is time before now, one or two series, y ticks
labelled in the units a person reads (12.3k, 0.0042) rather than raw floats.

Redrawn only when told (`show`), at most once a second by the dashboard, because a plotext
build costs milliseconds and progress arrives many times a second. Each y axis keeps its scale
within a view (tui/scale.py); a log axis is drawn on log10 values with ticks labelled in the
values. The legend is not drawn inside the plot (it would sit on the lines): the dashboard
shows it under the plot.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from textual_plotext import PlotextPlot

from .. import format as fmt
from ..scale import StickyRange, linear_ticks, log_ticks, log_values
from ..series import History
from .css import css_beside


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    history: History
    color: str = "green"
    right: bool = False  # on a second y axis (e.g. one instance's rate beside the run's total)


def time_axis(span_s: float) -> tuple[float, str]:
    """Divisor and label of the x axis: seconds, minutes or hours before now, by the span shown."""
    if span_s < 180:
        return 1.0, "seconds ago"
    if span_s < 3 * 3600:
        return 60.0, "minutes ago"
    return 3600.0, "hours ago"


class TimePlot(PlotextPlot):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(
        self,
        title: str,
        *,
        value_format: Callable[[float], str] = fmt.count,
        log_y: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.value_format = value_format
        self.log_y = log_y  # for quantities that fall by orders of magnitude (exploitability)
        self._signature: tuple[object, ...] | None = None
        self.ranges = {"left": StickyRange(), "right": StickyRange()}

    def on_mount(self) -> None:
        super().on_mount()
        self.show((), now=0.0)

    def show(self, series: tuple[Series, ...], now: float, title: str | None = None, view: Hashable = None) -> None:
        title = title or self.title
        drawn = [s for s in series if len(s.history) >= 2]
        signature = (
            title,
            view,
            now if drawn else None,
            tuple((s.label, len(s.history), s.history.points[-1]) for s in drawn),
        )
        if signature == self._signature:
            return
        self._signature = signature
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title if drawn else f"{title} — waiting for data")
        span = max((now - s.history.points[0][0] for s in drawn), default=0.0)
        unit, xlabel = time_axis(span)
        for side in ("left", "right"):
            on_side = [s for s in drawn if s.right == (side == "right")]
            if on_side:
                self._draw_side(side, on_side, now, unit, view)
        plt.xlabel(xlabel)
        self.refresh()

    def _draw_side(self, side: str, series: list[Series], now: float, unit: float, view: Hashable) -> None:
        """The series of one y axis, on one scale: log10 values if this plot is logarithmic and
        every value is positive, else the values; bounds held for the view."""
        plt = self.plt
        columns = [s.history.values() for s in series]
        logged = [log_values(v) for v in columns] if self.log_y else None
        log = logged is not None and all(v is not None for v in logged)
        ys = [v for v in logged if v is not None] if log and logged else columns
        lo, hi = self.ranges[side].fit([y for col in ys for y in col], log, view)
        for s, y in zip(series, ys):
            xs = [(t - now) / unit for t in s.history.times()]
            plt.plot(xs, y, color=s.color, marker="braille", yside=side)
        # textual-plotext's stub types the yside of ylim and yticks as a float; plotext takes "left" or "right"
        plt.ylim(lo, hi, yside=side)  # type: ignore[arg-type]
        marks = log_ticks(lo, hi) if log else linear_ticks(lo, hi)
        labels = [self.value_format(10**m if log else m) for m in marks]
        plt.yticks(marks, labels, yside=side)  # type: ignore[arg-type]
