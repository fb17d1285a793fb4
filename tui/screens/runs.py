"""The first screen: every run the daemon knows, newest first, with progress, rate, elapsed, ETA.

Enter opens a run's dashboard. Stop / resume / merge act on the highlighted run. Below NARROW columns
the instance count and elapsed time give way (the dashboard shows both), so the config is never cut.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from .. import format as fmt
from ..messages import Link
from ..views import RunView
from ..widgets.connection_bar import ConnectionBar
from .host import ScreenHost

RUN_COLUMNS = (
    ("Run", "id"),
    ("State", "state"),
    ("Inst", "inst"),
    ("Progress", "progress"),
    ("it/s", "ips"),
    ("Elapsed", "elapsed"),
    ("ETA", "eta"),
    ("Config", "config"),
)
NARROW = 100
NARROW_DROPS = frozenset({"inst", "elapsed"})


def instances_cell(run: RunView) -> Text:
    counts = run.state_counts()
    running = counts.get("running", 0)
    failed = counts.get("failed", 0)
    # running/total while it runs; afterwards just how many there were
    text = Text(f"{running}/{len(run.instances)}" if run.active else str(len(run.instances)), justify="right")
    if failed:
        text.append(f" {failed}✖", style="bold red")
    return text


def run_cells(run: RunView, bar_width: int = 8) -> tuple[object, ...]:
    # every cell is Text: a plain str would be parsed as console markup (and cost a parse per draw)
    return (
        Text(run.id),
        fmt.state_text(run.shown_state),
        instances_cell(run),
        fmt.bar(run.fraction, bar_width),
        Text(fmt.rate(run.total_ips), justify="right"),
        Text(fmt.duration(run.elapsed_s or None), justify="right"),
        Text(fmt.duration(run.eta_s), justify="right"),
        Text(fmt.config_name(run.config).removesuffix(".yaml").removesuffix(".yml")),
    )


def title(quickstart: bool) -> Text:
    """ "Runs"; under make run also what quitting does there (its Q is in no footer: 80 columns are full)."""
    if not quickstart:
        return Text("Runs")
    return Text.assemble("Runs", ("   make run: q leaves holdemd training, Q stops it", "dim"))


def run_detail(run: RunView | None, connected: bool = True) -> Text:
    if run is None:
        if not connected:
            return Text("Nothing to show until holdemd answers (see the top line).", style="dim")
        return Text("No runs yet. Press n to start one.", style="dim")
    parts = [Text.assemble(("run ", "dim"), (run.id, "bold")), Text.assemble(("config ", "dim"), run.config or "—")]
    if run.iters:
        parts.append(Text.assemble(("target ", "dim"), f"{run.iters:,} iterations"))
    elif run.time_budget_s:
        parts.append(Text.assemble(("budget ", "dim"), fmt.duration(run.time_budget_s), " per instance"))
    if run.shown_state == fmt.PREPARING:
        parts.append(Text.assemble(("preparing ", "dim"), run.phase_detail or "…", ("  instances pending", "dim")))
    estimate = fmt.estimate(run.estimate)
    if estimate is not None and (run.shown_state == fmt.PREPARING or run.active):
        parts.append(estimate)
    metric = run.metric
    if metric is not None:
        parts.append(Text.assemble((metric[0].replace("_", " ") + " ", "dim"), fmt.metric(metric[1])))
    if run.reason:
        parts.append(Text(run.reason, style="yellow"))
    if fmt.evaluating(run.eval):
        parts.append(Text("evaluating… (the ladder: bots, LBR-fc, probes)", style="bold cyan"))
    if run.merged:
        parts.append(Text.assemble(("merged ", "dim"), run.merged))
    return Text("  ·  ").join(parts)


class RunsScreen(Screen):
    CSS_PATH = Path(__file__).with_name("runs.tcss")  # absolute: subclasses elsewhere keep it
    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("s", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("m", "merge", "Merge"),
        Binding("n", "new_run", "New"),
    ]

    @property
    def host(self) -> ScreenHost:
        """The app, as what this screen asks of it."""
        return cast(ScreenHost, self.app)

    def __init__(self) -> None:
        super().__init__()
        self._ready = False
        self._order: list[str] = []
        self._shown: dict[str, tuple[str, ...]] = {}
        self._narrow = False
        self._columns: tuple[tuple[str, str], ...] = RUN_COLUMNS

    def compose(self) -> ComposeResult:
        yield ConnectionBar(id="link")
        yield Static(title(self.host.quickstart), id="title")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static(id="detail")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._ready = True  # composed: the app may redraw it from now on
        self._set_columns(self.size.width < NARROW)
        self.refresh_view()
        self.watch(self.app, "link", lambda _: self._show_detail(), init=False)

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def on_resize(self) -> None:
        if self._ready and (self.size.width < NARROW) != self._narrow:
            self._set_columns(not self._narrow)
            self.refresh_view()

    def _set_columns(self, narrow: bool) -> None:
        self._narrow = narrow
        self._columns = tuple(c for c in RUN_COLUMNS if not (narrow and c[1] in NARROW_DROPS))
        table = self.query_one("#runs", DataTable)
        table.clear(columns=True)
        self._order, self._shown = [], {}
        for label, key in self._columns:
            table.add_column(label, key=key)

    def _cells(self, run: RunView) -> tuple[object, ...]:
        cells = run_cells(run, 6 if self._narrow else 8)
        return tuple(cell for cell, (_, key) in zip(cells, RUN_COLUMNS) if (_, key) in self._columns)

    @property
    def selected(self) -> str | None:
        table = self.query_one("#runs", DataTable)
        if not table.row_count:
            return None
        return self._order[min(table.cursor_row, len(self._order) - 1)]

    def refresh_view(self) -> None:
        if not self._ready:
            return
        table = self.query_one("#runs", DataTable)
        runs = self.host.model.ordered()
        order = [r.id for r in runs]
        if order != self._order:
            keep = self.selected
            table.clear()
            self._shown.clear()
            for run in runs:
                cells = self._cells(run)
                table.add_row(*cells, key=run.id)
                self._shown[run.id] = tuple(str(c) for c in cells)
            self._order = order
            if keep in order:
                table.move_cursor(row=order.index(keep))
        else:
            for run in runs:
                cells = self._cells(run)
                plain = tuple(str(c) for c in cells)
                old = self._shown.get(run.id)
                if old != plain:
                    for (_, col), cell, a, b in zip(self._columns, cells, old or (), plain):
                        if a != b:
                            table.update_cell(run.id, col, cell)
                    self._shown[run.id] = plain
        self._show_detail()

    def _show_detail(self) -> None:
        run = self.host.model.runs.get(self.selected or "")
        self.query_one("#detail", Static).update(run_detail(run, self.host.link.link is Link.CONNECTED))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        if self.selected:
            self.host.open_run(self.selected)

    def action_stop(self) -> None:
        self.host.stop_run(self.selected)

    def action_resume(self) -> None:
        self.host.resume_run(self.selected)

    def action_merge(self) -> None:
        self.host.merge_run(self.selected)

    def action_new_run(self) -> None:
        self.host.new_run(self.selected)
