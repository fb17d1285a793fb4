"""The dashboard with 64 instances: the cursor reaches every part of the table, which scrolls, and
live updates change cells in place without moving the cursor or the scroll position.

The model is fed RunInfo and events directly (the shapes the daemon sends), without a daemon:
64 real workers would measure the machine, not the table."""

from __future__ import annotations

from tui_harness import until

from supervisor.protocol import InstanceInfo, RunInfo
from tui.app import HoldemApp
from tui.screens.dashboard import DashboardScreen
from tui.widgets.instance_table import InstanceTable

N = 64


def big_run() -> RunInfo:
    insts = tuple(
        InstanceInfo(index=k, state="running", iter=1000 * k, target_iters=100_000, ips=500.0 + k) for k in range(N)
    )
    return RunInfo(
        id="20260101-000000-beef",
        state="running",
        dir="/x",
        instances=insts,
        iters=N * 100_000,
        config="/repo/configs/kuhn.yaml",
    )


async def test_64_instances_scroll_and_update_in_place(tmp_path) -> None:
    app = HoldemApp(tmp_path / "no.sock", connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.model.apply_snapshot([big_run()], 0.0)
        app.open_run("20260101-000000-beef")
        dash = await until(
            pilot, lambda: app.screen if isinstance(app.screen, DashboardScreen) else None, what="the dashboard"
        )
        table = await until(pilot, lambda: dash.query_one(InstanceTable), what="the table")
        await until(pilot, lambda: table.row_count == N, what="64 rows")
        table.focus()
        await pilot.press("down", "down", "pagedown", "pagedown")
        assert 2 < table.cursor_row < N - 1 and table.scroll_y > 0
        await pilot.press("ctrl+end")
        assert table.cursor_row == N - 1 and table.selected_index == N - 1
        assert table.scroll_y > 0
        scroll = table.scroll_y

        for k in range(N):  # a burst of progress from every instance
            app.model.apply_event(
                {
                    "event": "progress",
                    "run": "20260101-000000-beef",
                    "instance": k,
                    "iter": 2000 * k + 7,
                    "target_iters": 100_000,
                    "ips": 900.0,
                    "elapsed_s": 3.0,
                    "t": 1.0,
                    "t_recv": 1.0,
                }
            )
        app._model_changed()
        await until(pilot, lambda: table.cell_text(N - 1, "iter").startswith("126k"), what="the update")
        assert table.cursor_row == N - 1 and table.scroll_y == scroll
        await pilot.press("up")
        assert table.selected_index == N - 2
