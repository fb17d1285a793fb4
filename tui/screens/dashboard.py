"""One run: its summary and progress, plots (rate and quality over time), instances, and a log.

The plots show the run (left axis / first line) and the selected instance (right axis / second
line). They are redrawn once a second with the model's sampled histories; the table and header
follow every (coalesced) model change.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static

from .. import format as fmt
from ..views import InstanceView, RunView
from ..widgets.connection_bar import ConnectionBar
from ..widgets.instance_table import InstanceTable
from ..widgets.log_pane import LogPane
from ..widgets.time_plot import Series, TimePlot
from ..widgets.trend_line import TrendLine
from .host import ScreenHost

COMPACT_HEIGHT = 36  # below this many rows the plots shrink to one-line sparklines
FOLLOW_SETTLE_S = 0.15  # the log and plots follow the cursor once it rests this long
METRIC_SHORT = {"exploitability": "exploit", "avg_regret": "regret"}
RICH_COLOR = {"orange": "dark_orange"}  # plotext's colour names that Rich spells otherwise


def spread(instances: int, workers: int) -> str:
    """`2 instances`, or `2 instances × 4 workers`: one worker each goes without saying (80 columns)."""
    text = f"{instances} instance" + "s" * (instances != 1)
    return text + (f" × {workers} workers" if workers > 1 else "")


def run_header(run: RunView | None, run_id: str) -> Text:
    if run is None:
        return Text(f"run {run_id} — not known to the daemon (yet)", style="yellow")
    counts = run.state_counts()
    states = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    head = Text.assemble(
        ("run ", "dim"),
        (run.id, "bold"),
        "  ",
        fmt.state_text(run.shown_state),
        ("  evaluating…" if fmt.evaluating(run.eval) else "", "bold cyan"),
        "  ",
        (fmt.config_name(run.config), "cyan"),
        "  ",
        f"{spread(len(run.instances), run.workers)} ({states})",
        ("  cores ", "dim"),
        f"{run.cores_in_use}" + (f"/{run.cores}" if run.cores else ""),
    )
    line2 = Text.assemble(
        fmt.bar(run.fraction, 20),
        "  ",
        f"{fmt.count(run.total_iter)}",
        f" / {fmt.count(run.total_target)}" if run.total_target else "",
        "  ",
        (fmt.rate(run.total_ips), "bold"),
        ("  elapsed ", "dim"),
        fmt.duration(run.elapsed_s or None),
        ("  ETA ", "dim"),
        fmt.duration(run.eta_s),
    )
    metric = run.metric
    if metric is not None:
        line2.append_text(Text.assemble(("  " + metric[0].replace("_", " ") + " ", "dim"), fmt.metric(metric[1])))
    if run.shown_state == fmt.PREPARING and run.phase_detail:
        line2.append_text(Text.assemble(("  preparing ", "dim"), run.phase_detail))
    if run.reason:
        line2.append_text(Text("  " + run.reason, style="yellow"))
    estimate = fmt.estimate(run.estimate)
    return Text("\n").join([head, line2] + ([estimate] if estimate is not None else []))


def legend(series: list[Series]) -> Text:
    """Under a plot, not on it: a coloured mark and a name per line, the axis it is read on."""
    parts: list[str | tuple[str, str]] = []
    for s in series:
        parts += [
            ("━━ ", RICH_COLOR.get(s.color, s.color)),
            (s.label + (" (right axis)" if s.right else ""), "dim"),
            "   ",
        ]
    return Text.assemble(*parts)


class DashboardScreen(Screen):
    CSS_PATH = Path(__file__).with_name("dashboard.tcss")  # absolute: subclasses elsewhere keep it
    BINDINGS = [
        Binding("escape,backspace", "back", "Runs"),
        Binding("s", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("x", "restart", "Restart"),
        Binding("m", "merge", "Merge"),
        Binding("n", "new_run", "New", show=False),  # in the help; the footer gives its room to `b` at 80 columns
        Binding("p", "toggle_plots", "Plots"),
        Binding("l", "toggle_log", "Log"),
        Binding("b", "blueprint", "Grid"),  # the blueprint screen; a short word: the footer fits 80 columns
    ]

    @property
    def host(self) -> ScreenHost:
        """The app, as what this screen asks of it."""
        return cast(ScreenHost, self.app)

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self._ready = False
        self.run_id = run_id
        self._plotted = 0.0
        self._settle: Timer | None = None
        self._run_log = False  # the log pane shows the run's own log instead of the instance's
        self.clock = time.time  # what "now" is on the plots' time axis (a snapshot test fixes it)

    def compose(self) -> ComposeResult:
        yield ConnectionBar(id="link")
        yield Static(id="header")
        with Horizontal(id="plots"):
            with Vertical(id="ips-box"):
                yield TimePlot("iterations/s", id="ips-plot")
                yield Static(id="ips-legend", classes="legend")
            with Vertical(id="metric-box"):
                yield TimePlot("quality", value_format=fmt.metric, log_y=True, id="metric-plot")
                yield Static(id="metric-legend", classes="legend")
        with Vertical(id="trends"):  # the plots' one-line form on small terminals
            yield TrendLine(id="ips-trend")
            yield TrendLine(id="metric-trend")
        yield InstanceTable(id="instances")
        yield LogPane(id="log")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._ready = True  # composed: the app may redraw it from now on
        self.host.attach_run(self.run_id)  # the plots start with the run's history, not when the TUI did
        self.query_one(InstanceTable).focus()  # arrows choose an instance, not scroll the log
        self._layout_for(self.size.height)
        self.refresh_view()
        self.set_interval(1.0, self.refresh_view)  # ages and plots move on even when no event comes

    def on_unmount(self) -> None:
        self.host.detach_run(self.run_id)

    def on_resize(self) -> None:
        self._layout_for(self.size.height)

    def _layout_for(self, height: int) -> None:
        compact = height < COMPACT_HEIGHT
        if compact != self.has_class("-compact"):
            self.set_class(compact, "-compact")
            self.call_after_refresh(self.refresh_plots)

    def on_screen_resume(self) -> None:
        self.refresh_view()

    @property
    def run(self) -> RunView | None:
        return self.host.model.runs.get(self.run_id)

    @property
    def selected(self) -> int | None:
        return self.query_one(InstanceTable).selected_index

    def refresh_view(self) -> None:
        if not self._ready:
            return
        run = self.run
        header = self.query_one("#header", Static)
        header.update(run_header(run, self.run_id))
        if run is None:
            return
        table = self.query_one(InstanceTable)
        table.show(run)
        pane = self.query_one(LogPane)
        index = self.selected
        if pane.key is None and (index is not None or self._run_log):
            self._follow(index)
        elif pane.key is not None:
            pane.catch_up(self._log_source(run, pane.key[1]))
        if index is not None and index in run.instances:
            pane.show_error(run.instances[index].error_line)
        if time.monotonic() - self._plotted > 0.9:
            self.refresh_plots()

    def refresh_plots(self) -> None:
        run = self.run
        if run is None or not self._ready or not self.is_current:
            return
        self._plotted = time.monotonic()
        metric = run.metric
        metric_name = metric[0] if metric else "quality"
        if self.has_class("-compact"):
            if not self.query("#metric-trend"):  # still being mounted
                return
            trend_view = (self.run_id, metric_name)
            self.query_one("#ips-trend", TrendLine).show(
                "it/s".ljust(7), run.ips_history, fmt.rate(run.total_ips), view=trend_view
            )
            self.query_one("#metric-trend", TrendLine).show(
                METRIC_SHORT.get(metric_name, "quality").ljust(7),
                run.metric_history,
                fmt.metric(metric[1] if metric else run.metric_history.last()),
                "cyan",
                log=True,
                view=trend_view,
            )
            return
        ips = [Series("run", run.ips_history, "green")]
        quality = [Series("run mean", run.metric_history, "cyan")]
        inst = run.instances.get(self.selected) if self.selected is not None else None
        if inst is not None:
            ips.append(Series(f"#{inst.index}", inst.ips_history, "orange", right=True))
            quality.append(Series(f"#{inst.index}", inst.metric_history, "orange"))
        if not self.query("#ips-legend"):  # the plot boxes are still being mounted: the next frame draws them
            return
        now = self.clock()
        view = (self.run_id, self.selected, metric_name)  # each axis keeps its scale while this holds
        self.query_one("#ips-plot", TimePlot).show(tuple(ips), now, "iterations/s", view)
        self.query_one("#metric-plot", TimePlot).show(tuple(quality), now, metric_name.replace("_", " "), view)
        self.query_one("#ips-legend", Static).update(legend(ips))
        self.query_one("#metric-legend", Static).update(legend(quality))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Holding a key down moves the cursor many rows a second: follow where it settles, so
        # scrolling stays smooth instead of fetching a log tail and plotting for every row.
        if self._settle is not None:
            self._settle.stop()
        self._settle = self.set_timer(FOLLOW_SETTLE_S, self._follow_selected)

    def _follow_selected(self) -> None:
        self._settle = None
        index = self.selected
        if index is not None:
            self._follow(index)
            self._plotted = 0.0
            self.refresh_plots()

    @staticmethod
    def _log_source(run: RunView | None, index: int | None) -> RunView | InstanceView | None:
        if run is None:
            return None
        return run if index is None else run.instances.get(index)

    def _follow(self, index: int | None) -> None:
        """Show the selected instance's log, or the run's own log when `l` chose it."""
        key = (self.run_id, None if self._run_log else index)
        pane = self.query_one(LogPane)
        if pane.key == key:
            return
        pane.follow(key, self._log_source(self.run, key[1]))
        self.host.fetch_tail(*key)

    def tail_loaded(self, run_id: str, index: int | None, lines: list[str]) -> None:
        panes = self.query(LogPane)  # empty while the screen is being torn down (the app is quitting)
        if panes:
            panes.first().load_tail((run_id, index), lines, self._log_source(self.run, index))

    def action_toggle_log(self) -> None:
        self._run_log = not self._run_log
        self._follow(self.selected)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_stop(self) -> None:
        self.host.stop_run(self.run_id)

    def action_resume(self) -> None:
        self.host.resume_run(self.run_id)

    def action_merge(self) -> None:
        self.host.merge_run(self.run_id)

    def action_restart(self) -> None:
        if self.selected is not None:
            self.host.restart_instance(self.run_id, self.selected)

    def action_new_run(self) -> None:
        self.host.new_run(self.run_id)

    def action_blueprint(self) -> None:
        self.host.open_blueprint(self.run_id)

    def action_toggle_plots(self) -> None:
        self.toggle_class("-no-plots")
