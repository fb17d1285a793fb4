"""The plots' scales hold still: a new point never redraws the old ones differently, a falling
exploitability is drawn on log10 values with ticks at its decades, and a new view starts afresh."""

from __future__ import annotations

import math

from textual.app import App, ComposeResult

from tui import format as fmt
from tui.scale import StickyRange, log_ticks, rounded
from tui.series import History
from tui.widgets.time_plot import Series, TimePlot
from tui.widgets.trend_line import TrendLine


def history(values: list[float], t0: float = 1000.0) -> History:
    h = History(capacity=10_000)
    for k, v in enumerate(values):
        h.add(t0 + k, v)
    return h


class Bench(App[None]):
    def compose(self) -> ComposeResult:
        yield TrendLine(id="trend")
        yield TimePlot("exploitability", value_format=fmt.metric, log_y=True, id="plot")


def falling(n: int) -> list[float]:
    """Exploitability of a converging solver: 0.3 down by orders of magnitude, with noise."""
    return [0.3 / (1 + k) ** 1.5 * (1 + 0.1 * math.sin(k)) for k in range(n)]


async def test_the_sparkline_keeps_its_scale_as_points_arrive() -> None:
    app = Bench()
    async with app.run_test(size=(100, 10)) as pilot:
        trend = app.query_one(TrendLine)
        values = falling(40)
        shown = []
        for n in (30, 31, 32, 33):  # frame by frame, one more point each
            trend.show("exploit", history(values[:n]), "x", log=True, view="run")
            await pilot.pause()
            shown.append(str(trend.render()))
        spark_of = [line.split()[1] for line in shown]
        for before, after in zip(spark_of, spark_of[1:]):
            assert after.startswith(before), "an old point was redrawn at another height"
        assert "0.001–1" in shown[-1]  # the scale, in whole decades, is on the line
        trend.show("exploit", history([5.0, 6.0]), "x", log=True, view="another run")
        assert trend.range.bounds == (0, 1)  # a new view starts from its own data


async def test_a_log_axis_spans_the_decades_with_ticks_labelled_in_values() -> None:
    app = Bench()
    async with app.run_test(size=(100, 20)) as pilot:
        plot = app.query_one(TimePlot)
        values = falling(150)  # 0.33 down to ~1.5e-4: four decades
        plot.show((Series("run", history(values), "cyan"),), now=1200.0, view="run")
        await pilot.pause()
        assert plot.ranges["left"].bounds == (-4, 0)
        axis = [line.split("┤")[0].strip() for line in str(plot.render()).splitlines() if "┤" in line]
        assert axis == ["1", "0.1", "0.01", "0.001", "0.0001"]  # a tick per decade, top to bottom
        plot.show((Series("run", history(values[:100]), "cyan"),), now=1100.0, view="run")
        assert plot.ranges["left"].bounds == (-4, 0)  # fewer points: the scale stays


def test_bounds_are_round_and_only_widen_within_a_view() -> None:
    r = StickyRange()
    assert r.fit([3.0, 7.5], log=False, view=1) == (0.0, 10.0)
    assert r.fit([3.0, 4.0], log=False, view=1) == (0.0, 10.0)  # never shrinks
    assert r.fit([3.0, 12.0], log=False, view=1) == (0.0, 20.0)
    assert r.fit([3.0, 4.0], log=False, view=2) == (0.0, 5.0)
    assert rounded([-2.5, -1.2], log=True) == (-3, -1)
    assert log_ticks(-3, -1) == [-3.0, -2.0, -1.0]
    narrow = [round(10**t, 6) for t in log_ticks(-2, -1)]  # one decade: 1, 2, 5 x 10^k
    assert narrow == [0.01, 0.02, 0.05, 0.1]
