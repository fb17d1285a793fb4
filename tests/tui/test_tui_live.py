"""holdem-tui against a real holdemd running real `holdem train` workers on Kuhn poker.

Each test drives the app with the Pilot, as a person would, and checks both what the screen
shows and what the daemon says. Conditions are awaited with deadlines, never by sleeping.
"""

from __future__ import annotations

import contextlib
import signal

from textual.widgets import DataTable, Static
from tui_harness import LONG_RUN, Holdemd, auntil, until

from supervisor.protocol import Client
from tui.app import HoldemApp
from tui.messages import Link
from tui.screens.confirm import ConfirmScreen
from tui.screens.dashboard import DashboardScreen
from tui.widgets.connection_bar import ConnectionBar
from tui.widgets.instance_table import InstanceTable
from tui.widgets.log_pane import LogPane


def text_of(widget: Static) -> str:
    return str(widget.render())


def run_of(app: HoldemApp):
    runs = app.model.ordered()
    return runs[0] if runs else None


async def open_dashboard(app: HoldemApp, pilot) -> DashboardScreen:
    await until(pilot, lambda: app.screen.query_one("#runs", DataTable).row_count == 1, what="the run listed")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    return screen


async def test_table_fills_progress_advances_and_log_shows_real_lines(holdemd: Holdemd) -> None:
    holdemd.start(*LONG_RUN)
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await open_dashboard(app, pilot)
        table = dash.query_one(InstanceTable)
        await until(pilot, lambda: table.row_count == 2, what="both instances in the table")
        await until(pilot, lambda: "running" in table.cell_text(0, "state"), what="instance 0 running")
        first = run_of(app).total_iter
        await until(pilot, lambda: run_of(app).total_iter > first + 1000, what="progress")
        # what is drawn follows the model: the iteration column shows a count, the bar a percentage
        assert "/" in table.cell_text(0, "iter")
        assert "running" in text_of(dash.query_one("#header", Static))
        log = dash.query_one(LogPane)
        await until(pilot, lambda: any("holdem.train" in line for line in log.lines), what="worker log lines")
        assert app.link.link is Link.CONNECTED


async def test_stop_key_stops_the_run_merge_merges_and_resume_continues_it(holdemd: Holdemd) -> None:
    holdemd.start(*LONG_RUN)
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await open_dashboard(app, pilot)
        await until(pilot, lambda: run_of(app) and run_of(app).total_iter > 0, what="progress")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        stopped = await auntil(lambda: _state_is(holdemd, "stopped"), pilot, what="the daemon to say stopped")
        await until(pilot, lambda: "stopped" in text_of(dash.query_one("#header", Static)), what="stopped shown")
        iters_at_stop = sum(i["iter"] for i in stopped["instances"])

        await pilot.press("m")  # merge what the stopped instances checkpointed
        merged = await auntil(lambda: _merged(holdemd), pilot, what="the daemon to report a merged blueprint")
        await until(pilot, lambda: run_of(app).merged == merged["merged"], what="the merge known to the TUI")

        await pilot.press("r")
        await auntil(lambda: _state_is(holdemd, "running"), pilot, what="the daemon to say running")
        await until(
            pilot,
            lambda: run_of(app).total_iter > iters_at_stop and run_of(app).state == "running",
            what="progress beyond the stop",
        )
        assert "running" in text_of(dash.query_one("#header", Static))


async def _merged(holdemd: Holdemd):
    run = await holdemd.arun()
    return run if run.get("merged") else None


async def _state_is(holdemd: Holdemd, state: str):
    run = await holdemd.arun()
    return run if run.get("state") == state else None


async def test_destructive_keys_can_be_cancelled(holdemd: Holdemd) -> None:
    holdemd.start(*LONG_RUN)
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_dashboard(app, pilot)
        await until(pilot, lambda: run_of(app) and run_of(app).state == "running", what="running")
        for key in ("s", "x"):
            await pilot.press(key)
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="back on the dashboard")
        assert (await holdemd.arun())["state"] == "running"


async def test_restart_instance_key_restarts_it(holdemd: Holdemd) -> None:
    holdemd.start(*LONG_RUN)
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await open_dashboard(app, pilot)
        table = dash.query_one(InstanceTable)
        await until(
            pilot,
            lambda: table.row_count == 2 and run_of(app).instances[0].state == "running",
            what="instance 0 running",
        )
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await auntil(lambda: _restarted(holdemd), pilot, what="the daemon to count a restart")
        await until(pilot, lambda: table.cell_text(0, "restarts") == "1", what="the restart shown")
        await until(pilot, lambda: run_of(app).instances[0].state == "running", what="instance 0 running again")
        # the log pane follows: the daemon's note and the new worker's lines arrive live
        log = dash.query_one(LogPane)
        await until(pilot, lambda: any("restart requested" in line for line in log.lines), what="the restart logged")
        await until(
            pilot,
            lambda: sum("holdem.train: instance" in line for line in log.lines) >= 2,
            what="the relaunched worker's first line",
        )


async def _restarted(holdemd: Holdemd):
    run = await holdemd.arun()
    return run["instances"][0]["restarts"] >= 1 and run["instances"][0]["state"] == "running"


async def test_daemon_killed_and_restarted_tui_reattaches(holdemd: Holdemd) -> None:
    holdemd.start(*LONG_RUN)
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(120, 40)) as pilot:
        dash = await open_dashboard(app, pilot)
        await until(pilot, lambda: run_of(app) and run_of(app).total_iter > 0, what="progress")
        bar = dash.query_one(ConnectionBar)
        holdemd.kill(signal.SIGKILL)
        await until(pilot, lambda: app.link.link is Link.DISCONNECTED, what="the disconnected state")
        await until(pilot, lambda: "disconnected — retrying" in text_of(bar), what="the message")
        assert bar.has_class("-down")
        before = run_of(app).total_iter  # the last data stays on screen meanwhile

        holdemd.start()  # no new run: it resumes the one whose desired state is running
        await until(pilot, lambda: app.link.link is Link.CONNECTED, what="reattached")
        await until(pilot, lambda: "connected" in text_of(bar) and not bar.has_class("-down"), what="connected")
        await until(
            pilot,
            lambda: run_of(app).state == "running" and run_of(app).total_iter > before,
            what="progress after the restart",
        )
        assert isinstance(app.screen, DashboardScreen)


async def test_missing_socket_is_explained_then_attaches_when_the_daemon_appears(holdemd: Holdemd) -> None:
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(100, 30)) as pilot:
        bar = app.screen.query_one(ConnectionBar)
        await until(pilot, lambda: app.link.link is Link.DISCONNECTED, what="the disconnected state")
        assert "is holdemd running?" in text_of(bar)
        assert str(holdemd.sock) in text_of(bar)
        holdemd.start(*LONG_RUN)
        await until(pilot, lambda: app.link.link is Link.CONNECTED, what="attached")
        await until(pilot, lambda: app.screen.query_one("#runs", DataTable).row_count == 1, what="the run listed")


async def test_a_failed_run_says_why(holdemd: Holdemd, tmp_path) -> None:
    # A config the daemon accepts (it is valid) whose prepare phase fails: the bucket store is a file.
    bad = tmp_path / "hunl.yaml"
    bad.write_text("game: hunl\nalgorithm: es-mccfr\niterations: 1000\n")
    (tmp_path / "nosuchgame").write_text("not a folder")
    holdemd.env["HOLDEM_BUCKETS"] = str(tmp_path / "nosuchgame")
    holdemd.start("--instances", "2", "--config", str(bad), "--iters", "1000")
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: run_of(app) and run_of(app).state == "failed", what="the run failed")
        table = app.screen.query_one("#runs", DataTable)
        await until(
            pilot, lambda: table.row_count and "failed" in str(table.get_row_at(0)[1]), what="failed in the list"
        )
        await until(
            pilot,
            lambda: "nosuchgame" in text_of(app.screen.query_one("#detail", Static)),
            what="the reason under the list",
        )
        dash = await open_dashboard(app, pilot)
        await until(pilot, lambda: "nosuchgame" in text_of(dash.query_one("#header", Static)), what="the reason")
        await pilot.press("l")  # the run's own log: the failed prepare phase says it too
        log = dash.query_one(LogPane)
        await until(pilot, lambda: log.key == (run_of(app).id, None), what="the run log followed")
        await until(pilot, lambda: any("nosuchgame" in line for line in log.lines), what="the prepare log")


async def test_quality_metric_is_shown_and_plotted(holdemd: Holdemd) -> None:
    holdemd.start(*LONG_RUN)
    async with Client(holdemd.sock) as c, contextlib.aclosing(c.subscribe()) as stream:
        async for event in stream:
            if event.get("event") == "progress":
                break
    assert "metrics" in event  # the daemon forwards the worker's metrics
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(160, 48)) as pilot:
        dash = await open_dashboard(app, pilot)
        await until(
            pilot,
            lambda: "exploitability" in text_of(dash.query_one("#header", Static)),
            what="exploitability in the header",
        )
        await until(
            pilot,
            lambda: len(run_of(app).metric_history) >= 2 and len(run_of(app).ips_history) >= 2,
            timeout=30,
            what="two samples of each history",
        )
        await until(
            pilot,
            lambda: "waiting for data" not in str(dash.query_one("#metric-plot").render()),
            what="the quality plot drawn",
        )
