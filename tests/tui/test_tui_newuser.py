"""What a newcomer met in the TUI (issue 26), on what reaches the terminal at 80x24 and 160x48: nothing is
cut where a narrow terminal has room to wrap it, the quality line keeps its scale after a daemon
restart, and a Kuhn or Leduc run is not offered the hold'em ladder.

A real holdemd with a finished Kuhn run, restarted (as after a reboot: the TUI only has the daemon's
history and status); a Leduc run for the ladder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from tui_harness import KUHN, REPO, Holdemd, painted, until

from tui.app import STOP_HOLDEMD, HoldemApp, build_app
from tui.screens.blueprint import BlueprintScreen
from tui.screens.dashboard import DashboardScreen
from tui.widgets.log_pane import LogPane

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
LEDUC = REPO / "configs" / "leduc.yaml"


@pytest.fixture(scope="module")
def restarted() -> Iterator[Holdemd]:
    d = Holdemd()
    try:
        d.start("--instances", "2", "--config", str(KUHN), "--iters", "30000", "--seed", "7")
        d.wait_run(lambda r: r.get("state") == "done" and r.get("merged"), timeout=120, what="the run merged")
        d.stop()
        d.start()
        yield d
    finally:
        d.cleanup()


def squeezed(text: str) -> str:
    """Text without blanks and box lines: a wrapped line reads as one."""
    return re.sub(r"[\s│╭╮╰╯─]", "", text)


def painted_with(app: HoldemApp, *parts: str) -> str | None:
    shown = painted(app)
    return shown if all(part in shown for part in parts) else None


async def open_dashboard(app: HoldemApp, pilot, run_id: str) -> DashboardScreen:
    await until(pilot, lambda: run_id in app.model.runs, what="the run listed")
    app.open_run(run_id)
    return await until(
        pilot, lambda: app.screen if isinstance(app.screen, DashboardScreen) else None, what="the dashboard"
    )


@SIZES
async def test_the_runs_list_and_the_dashboard_wrap_instead_of_cutting(
    restarted: Holdemd, size: tuple[int, int]
) -> None:
    run = restarted.run()
    app = HoldemApp(restarted.sock)
    async with app.run_test(size=size) as pilot:
        # its last part, the merged path, is on screen once the wrapped line is laid out (a repaint after the text)
        await until(pilot, lambda: squeezed(run["merged"]) in squeezed(painted(app)), what="the merged path, wrapped")

        dash = await open_dashboard(app, pilot, run["id"])
        log = await until(pilot, lambda: dash.query_one(LogPane), what="the log pane")
        await until(pilot, lambda: any("done at iteration" in line for line in log.raw), what="the log tail")
        await pilot.pause(0.3)
        shown = painted(app)
        assert "100%" in shown and "elapsed" in shown, shown  # the progress line is not pushed out of the header
        assert "2 instances (2 done)" in shown and "x 1 workers" not in shown, shown
        for line in log.raw:  # every log line whole, wrapped where it is wider than the pane
            assert squeezed(line) in squeezed(shown), f"{line!r} is cut:\n{shown}"


async def test_the_quality_line_keeps_its_scale_and_value_after_a_daemon_restart(restarted: Holdemd) -> None:
    """After a restart the instances report no metric until they run again, and the history can hold a
    zero (a first report before any measurement): the line keeps a log scale in the metric's digits
    and shows the newest value the history has."""
    run = restarted.run()
    app = HoldemApp(restarted.sock)
    async with app.run_test(size=(80, 24)) as pilot:
        dash = await open_dashboard(app, pilot, run["id"])
        view = app.model.runs[run["id"]]
        await until(pilot, lambda: len(view.metric_history) >= 1, what="the daemon's history")
        t0 = view.metric_history.points[-1][0]
        view.metric_history.points[:] = [(t0 - 3, 0.0), (t0 - 2, 0.04), (t0 - 1, 0.002)]
        dash.refresh_plots()
        await pilot.pause(0.2)
        line = next(row for row in painted(app).splitlines() if "quality" in row)
        assert " 0.001–0.1 " in line, line  # the decades around the positive values, in their digits
        assert line.rstrip().endswith(" 0.002"), line


@SIZES
async def test_a_leduc_run_is_not_offered_the_ladder(holdemd: Holdemd, size: tuple[int, int]) -> None:
    holdemd.start("--instances", "1", "--config", str(LEDUC), "--iters", "2000", "--seed", "1")
    run_id = holdemd.wait_run(lambda r: r.get("state") == "done", timeout=120, what="the Leduc run done")["id"]
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=size) as pilot:
        await open_dashboard(app, pilot, run_id)
        await pilot.press("b")
        bp = await until(pilot, lambda: app.screen if isinstance(app.screen, BlueprintScreen) else None)
        shown = await until(pilot, lambda: painted_with(app, "exploitability"), what="the ladder panel")
        assert "--exploitability" in shown and "`e` runs the ladder" not in shown, shown
        assert "Run ladder" not in shown.splitlines()[-1] and "Ladder" not in shown.splitlines()[-1], shown
        await pilot.press("e")
        await pilot.pause(0.5)
        assert not app._notifications, [n.message for n in app._notifications]  # no refusal to read
        assert isinstance(app.screen, BlueprintScreen) and app.screen is bp


@SIZES
async def test_under_make_run_q_quits_and_capital_q_asks_make_run_to_stop_holdemd(
    restarted: Holdemd, size: tuple[int, int]
) -> None:
    app = HoldemApp(restarted.sock, quickstart=True)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: painted_with(app, "make run: q leaves holdemd training, Q stops it"), what="hint")
        await pilot.press("question_mark")
        shown = await until(pilot, lambda: painted_with(app, "stop holdemd (it checkpoints)"), what="the help")
        assert "quit (training goes on: it belongs to holdemd)" in shown, shown
        box = app.screen.query_one("#help")
        assert box.region.bottom <= size[1] and box.max_scroll_y == 0, "the help does not fit"
        await pilot.press("escape")
        await pilot.press("Q")
        await until(pilot, lambda: app.return_code is not None, what="the app quitting")
    assert app.return_code == STOP_HOLDEMD
    app = HoldemApp(restarted.sock, quickstart=True)
    async with app.run_test(size=size) as pilot:
        await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None, what="the app quitting")
    assert app.return_code == 0
    app = HoldemApp(restarted.sock)  # not under make run: no Q, no hint, nothing said about make run
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: painted_with(app, "Runs"), what="the runs list")
        await pilot.press("Q")
        await pilot.pause(0.3)
        assert app.return_code is None and "make run" not in painted(app)


async def test_holdem_tui_finds_the_daemon_of_make_run_by_itself(
    restarted: Holdemd, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "runs" / "quickstart").mkdir(parents=True)
    (checkout / "runs" / "quickstart" / "holdemd.sock").symlink_to(restarted.sock)  # as make run links a long path
    monkeypatch.chdir(checkout)
    monkeypatch.delenv("HOLDEMD_SOCKET", raising=False)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))  # the default socket: nobody there
    app = build_app([])
    assert app.socket == restarted.sock
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: painted_with(app, f"connected to holdemd (pid {restarted.proc.pid})"))
