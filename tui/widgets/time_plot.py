"""A line plot over time (textual-plotext): x is minutes before now, one or two series.

Redrawn only when told (`show`), at most once a second by the dashboard, because a plotext
build costs milliseconds and progress arrives many times a second.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual_plotext import PlotextPlot

from ..model import History
from .css import css_beside


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    history: History
    color: str = "green"
    right: bool = False  # on a second y axis (e.g. one instance's rate beside the run's total)


class TimePlot(PlotextPlot):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self._signature: tuple[object, ...] | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.show((), now=0.0)

    def show(self, series: tuple[Series, ...], now: float, title: str | None = None) -> None:
        title = title or self.title
        signature = (title, now if any(len(s.history) for s in series) else None,
                     tuple((s.label, len(s.history), s.history.points[-1] if s.history.points else None)
                           for s in series))
        if signature == self._signature:
            return
        self._signature = signature
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        drawn = False
        for s in series:
            if len(s.history) < 2:
                continue
            xs = [(t - now) / 60.0 for t in s.history.times()]
            plt.plot(xs, s.history.values(), label=s.label, color=s.color, marker="braille",
                     yside="right" if s.right else "left")
            drawn = True
        if not drawn:
            plt.title(f"{title} — waiting for data")
        plt.xlabel("minutes ago")
        self.refresh()
