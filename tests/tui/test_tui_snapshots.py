"""Layout regressions: the runs list and the dashboard at 80x24 and 160x48 (pytest-textual-snapshot).

The data is real: a Kuhn run of a real holdemd, finished, and the daemon restarted, so rates and
elapsed times are at rest. What still differs between machines and runs (the run id, tmp and repo
paths, the daemon pid, log timestamps, checkpoint sizes) is replaced by fixed text before it is drawn, and live
updates are switched off, so each snapshot is the same on every machine.
Update with: pytest tests/tui/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import overload

import pytest
from textual import work
from tui_harness import KUHN, REPO, Holdemd, until

from supervisor.protocol import Method, ProtocolError
from tui.app import HoldemApp
from tui.messages import Link, LinkStatus
from tui.screens.dashboard import DashboardScreen
from tui.screens.runs import RunsScreen
from tui.widgets.instance_table import InstanceTable
from tui.widgets.log_pane import LogPane

RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{4}")
STAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(,\d+)?")
BYTES = re.compile(r"\(\d+ bytes\)")  # a checkpoint's size varies with the digits of its timings
FIXED_ID = "20260101-000000-beef"
FROZEN_NOW = 1_767_225_600.0  # 2026-01-01: the plots' "now"


def fill_histories(run) -> None:
    """Two minutes of made-up but plausible history, so the plots are drawn (the real run is over
    before the TUI attaches, and histories start when it does)."""
    for k in range(120):
        t = FROZEN_NOW - 119 + k
        run.ips_history.add(t, 90_000 + 20_000 * math.sin(k / 9))
        run.metric_history.add(t, 0.3 / (1 + k) ** 1.4)
        for inst in run.instances.values():
            inst.ips_history.add(t, 30_000 + 8_000 * math.sin(k / 7 + inst.index))
            inst.metric_history.add(t, 0.4 / (1 + k) ** 1.3 * (1 + 0.05 * inst.index))


@pytest.fixture(scope="module")
def finished() -> Iterator[Holdemd]:
    d = Holdemd()
    try:
        d.start("--instances", "3", "--config", str(KUHN), "--iters", "30000", "--seed", "7")
        d.wait_run(lambda r: r.get("state") == "done", timeout=120, what="the run done")
        d.stop()
        d.start()  # a fresh daemon: rates and elapsed times are at rest
        yield d
    finally:
        d.cleanup()


class FrozenApp(HoldemApp):
    """holdem-tui on the finished run, with volatile text replaced and live updates off."""

    def __init__(self, daemon: Holdemd, dashboard: bool) -> None:
        super().__init__(daemon.sock, resync_s=3600.0)
        self.daemon = daemon
        self.dashboard = dashboard
        self.real_id = ""
        self.elapsed_seen: list[float] = []

    @overload
    def mask(self, text: str) -> str: ...
    @overload
    def mask(self, text: None) -> None: ...
    def mask(self, text: str | None) -> str | None:
        if text is None:
            return None
        text = text.replace(str(self.daemon.root), "/tmp/htui-snapshot").replace(str(REPO), "/repo")
        text = BYTES.sub("(2048 bytes)", text)
        return STAMP.sub("2026-01-01 00:00:00,000", RUN_ID.sub(FIXED_ID, text))

    async def freeze(self, pilot) -> None:
        await until(pilot, lambda: any(r.state == "done" for r in self.model.runs.values()), what="the run")
        self.workers.cancel_group(self, "link")
        await pilot.pause()  # let messages the link posted before it stopped arrive first
        (run,) = self.model.runs.values()
        self.real_id = run.id
        run.id, run.dir, run.config, run.merged = (
            FIXED_ID,
            self.mask(run.dir),
            self.mask(run.config),
            self.mask(run.merged),
        )
        run.cores = 2  # the machine's cores differ between machines
        # A restarted daemon still knows how long each instance trained (from its checkpoint).
        self.elapsed_seen = [inst.elapsed_s for inst in run.instances.values()]
        for inst in run.instances.values():
            inst.last_checkpoint = self.mask(inst.last_checkpoint)
            inst.elapsed_s = 12.5 + inst.index  # the real value depends on the machine
        self.model.runs = {FIXED_ID: run}
        self.link = LinkStatus(Link.CONNECTED, "/run/holdemd/holdemd.sock", pid=4242)
        runs_screen = self.screen
        assert isinstance(runs_screen, RunsScreen)
        runs_screen.refresh_view()
        if self.dashboard:
            self.open_run(FIXED_ID)
            await until(
                pilot,
                lambda: isinstance(self.screen, DashboardScreen) and self.screen.query_one("#log", LogPane).lines,
                what="the log tail",
            )
            fill_histories(run)
            dashboard = self.screen
            assert isinstance(dashboard, DashboardScreen)
            dashboard.clock = lambda: FROZEN_NOW
            dashboard.refresh_plots()
        await pilot.pause()

    @work(group="tail", exclusive=True)
    async def fetch_tail(self, run_id: str, index: int) -> None:
        try:
            result = await self.connection.call(Method.LOGS_TAIL, {"run": self.real_id, "index": index, "lines": 50})
            lines = [self.mask(line) or "" for line in result["lines"]]
        except ProtocolError as exc:
            lines = [exc.message]
        if isinstance(self.screen, DashboardScreen):
            self.screen.tail_loaded(run_id, index, lines)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_runs_list_snapshot(finished: Holdemd, snap_compare, size: tuple[int, int]) -> None:
    app = FrozenApp(finished, dashboard=False)
    assert snap_compare(app, terminal_size=size, run_before=app.freeze)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_dashboard_snapshot(finished: Holdemd, snap_compare, size: tuple[int, int]) -> None:
    app = FrozenApp(finished, dashboard=True)
    assert snap_compare(app, terminal_size=size, run_before=app.freeze)


def test_disconnected_snapshot(snap_compare) -> None:
    """No daemon at the socket: the red line says so and why, and that it retries."""
    app = HoldemApp(Path("/nonexistent/holdemd.sock"))
    app.connection.retry_base_s = app.connection.retry_cap_s = 2.0  # every try says "retrying in 2.0s"

    async def first_failure(pilot) -> None:
        await until(pilot, lambda: app.link.link is Link.DISCONNECTED, what="the disconnected state")
        app.workers.cancel_group(app, "link")  # hold this state: no "connecting" in the picture
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=first_failure)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_dashboard_gives_its_rows_to_the_log_and_every_header_fits(
    finished: Holdemd, size: tuple[int, int]
) -> None:
    app = FrozenApp(finished, dashboard=True)
    async with app.run_test(size=size) as pilot:
        await app.freeze(pilot)
        assert app.elapsed_seen and all(e > 0 for e in app.elapsed_seen)
        screen = app.screen
        header = str(screen.query_one("#header").render())
        assert "elapsed 14s" in header, header  # the longest instance's time, not "—"
        table, log = screen.query_one(InstanceTable), screen.query_one(LogPane)
        rows_end = table.region.y + 1 + table.row_count  # the header line, then one line per instance
        assert log.region.y - rows_end <= 1, f"{log.region.y - rows_end} empty rows above the log"
        shown = table.header_text
        assert shown.cell_len <= table.region.width, f"header {shown.plain!r} is cut at {table.region.width}"
        assert shown.plain.rstrip().endswith("Error") and ("Where" in shown.plain) == (size[0] > 100)


async def test_help_fits_an_80x24_terminal(finished: Holdemd) -> None:
    app = FrozenApp(finished, dashboard=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.freeze(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        box = app.screen.query_one("#help")
        assert box.region.y >= 0 and box.region.bottom <= 24
        assert box.max_scroll_y == 0, f"{box.max_scroll_y} help lines are hidden below the box"


async def test_the_daemons_low_space_warning_is_on_the_top_line() -> None:
    d = Holdemd()
    try:
        d.start("--low-space-mb", str(2**40))  # more than any disk has: the warning is always on
        app = HoldemApp(d.sock)
        async with app.run_test(size=(160, 10)) as pilot:
            await until(pilot, lambda: app.link.warnings, what="the daemon's warnings")
            top = str(app.screen.query_one("#link").render())
            assert "⚠ low disk space:" in top and "free for" in top
    finally:
        d.cleanup()
